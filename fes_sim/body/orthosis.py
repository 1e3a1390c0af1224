"""Ankle-foot orthoses (AFOs): the passive alternative to peroneal stimulation.

An AFO is modelled as a sagittal-plane rotational spring-damper between shank and
foot, acting on the ankle angle θ (degrees, dorsiflexion positive; 0 = foot at 90° to
the shank). It is stiffer in one direction than the other, so a single model covers
the three common designs::

    τ_AFO = −K_df·(θ − θ_0)   for θ > θ_0   (resists dorsiflexion)
    τ_AFO = +K_pf·(θ_0 − θ)   for θ < θ_0   (resists plantarflexion)
    τ_AFO −= B·θ̇

with τ in N·m, dorsiflexing positive, as :class:`fes_sim.plant.WalkingPlant` expects of
its ``orthosis`` callable (``orthosis=afo.torque_nm``). The plant applies it through the
whole cycle: in swing and in the loading response it acts on the foot's dynamics; from
foot-flat to toe-off the ankle settles where the walker's stance stiffness
(``pushoff_stiffness_nm_per_deg``) balances the brace's spring, the foot pitching heel-up
but never toe-up off the floor. So a brace that resists plantarflexion holds the heel
down in push-off (the known cost of a rigid AFO, lost push-off plantarflexion) and one
that resists dorsiflexion lifts the heel early in mid-stance.

Published stiffness figures (sagittal plane, bench tests):

- 13 commercial carbon-composite AFOs: 0.58–3.66 N·m/deg (Shuman et al. 2021,
  J Biomech Eng 144:011004). The same 13 AFOs measured on five test rigs differ by a
  median 1.03 N·m/deg between rigs (J NeuroEng Rehabil 2023,
  doi:10.1186/s12984-023-01126-7): any stiffness figure is uncertain by about ±50 %.
- Rigid (solid, non-articulated) polypropylene AFOs: the value depends strongly on
  trimline and wall thickness (measuring methods reviewed by Kobayashi, Leung &
  Hutchins 2011, J Rehabil Res Dev 48:565); no single bench figure applies.
- Articulated AFOs with a plantarflexion stop or an adjustable plantarflexion
  resistance are studied clinically by Kobayashi et al. 2015 (Clin Biomech
  30:775) and Mulroy et al. 2010 (Prosthet Orthot Int 34:277): both a plantar stop
  and a rigid AFO restrict plantarflexion; the stop leaves dorsiflexion free.

The preset values are parameters, not measurements of a particular device. They are
ordered by what each design is for: the carbon spring inside Shuman's range; the hinged
stop well above it (a stop is meant not to yield; what yields is shell and strap); the
rigid shell stiffer still in both directions (8 N·m/deg), since "rigid" means the brace,
not the ankle, sets the angle: it must exceed the stop, and with it the stance
stiffness of the walker's own push-off (``pushoff_stiffness_nm_per_deg``, 3 N·m/deg by
default), or the push-off it is known to cost would not be lost. Damping is not reported in the bench studies
and is set near 30 % of critical damping for a shod foot (J ≈ 0.02 kg·m²); it is an
uncertain parameter. Not modelled: the AFO's mass and inertia, strap and shell
compliance, and the knee and hip compensations a brace provokes in stance.
"""

from __future__ import annotations

from dataclasses import dataclass

from fes_sim.config.schema import Config, param


@dataclass(frozen=True)
class OrthosisConfig(Config):
    """A passive ankle-foot orthosis: neutral angle, stiffness each way, damping."""

    neutral_deg: float = param(0.0, unit="deg", lo=-20, hi=20, doc="ankle angle where the AFO exerts no moment (0 = foot at 90 deg to the shank, + dorsiflexion)")
    dorsiflexion_stiffness_nm_per_deg: float = param(0.0, unit="N m/deg", lo=0, hi=20, doc="resistance to dorsiflexion beyond neutral (0 = free dorsiflexion)")
    plantarflexion_stiffness_nm_per_deg: float = param(0.0, unit="N m/deg", lo=0, hi=20, doc="resistance to plantarflexion beyond neutral (a stop is a high value)")
    damping_nms_per_deg: float = param(0.02, unit="N m s/deg", lo=0, hi=0.2, doc="viscous damping of foot motion relative to the shank (uncertain, not reported in bench tests)")

    def torque_nm(self, ankle_deg: float, ankle_vel_dps: float) -> float:
        """Moment of the AFO on the foot (N·m, dorsiflexing positive).

        Parameters
        ----------
        ankle_deg
            Ankle angle (deg, dorsiflexion positive).
        ankle_vel_dps
            Ankle angular velocity (deg/s, dorsiflexion positive).
        """
        d = ankle_deg - self.neutral_deg
        k = self.dorsiflexion_stiffness_nm_per_deg if d > 0.0 else self.plantarflexion_stiffness_nm_per_deg
        return -k * d - self.damping_nms_per_deg * ankle_vel_dps


#: registers the config kind ``afo`` (presets in ``configs/afos/``)
CONFIG_CLASS = OrthosisConfig

PRESETS: dict[str, OrthosisConfig] = {
    # solid polypropylene shell at neutral: the stiffest both ways (above the stop, see the module notes)
    "rigid": OrthosisConfig(
        neutral_deg=0.0, dorsiflexion_stiffness_nm_per_deg=8.0, plantarflexion_stiffness_nm_per_deg=8.0, damping_nms_per_deg=0.02,
    ),
    # articulated AFO, free dorsiflexion, plantarflexion stop at neutral (Mulroy 2010 "PS" AFO)
    "hinged": OrthosisConfig(
        neutral_deg=0.0, dorsiflexion_stiffness_nm_per_deg=0.0, plantarflexion_stiffness_nm_per_deg=5.0, damping_nms_per_deg=0.02,
    ),
    # articulated AFO, free dorsiflexion, plantarflexion spring (adjustable resistance, Kobayashi 2015)
    "hinged_spring": OrthosisConfig(
        neutral_deg=0.0, dorsiflexion_stiffness_nm_per_deg=0.0, plantarflexion_stiffness_nm_per_deg=0.8, damping_nms_per_deg=0.01,
    ),
    # carbon-fibre spring AFO: moderate stiffness, stores and returns energy (0.58-3.66 N m/deg, Shuman 2021)
    "carbon": OrthosisConfig(
        neutral_deg=0.0, dorsiflexion_stiffness_nm_per_deg=1.2, plantarflexion_stiffness_nm_per_deg=1.2, damping_nms_per_deg=0.005,
    ),
}
