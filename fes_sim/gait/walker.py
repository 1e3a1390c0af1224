"""Walker profiles: body, gait timing, foot-drop physiology and muscle response.

``CONFIG_CLASS`` and ``PRESETS`` register the ``walker`` config kind
(:mod:`fes_sim.config.presets`). Every uncertain figure of REFERENCE.md is a field
here, with its source in the help text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fes_sim.config.schema import Config, param
from fes_sim.errors import ConfigError
from fes_sim.gait import kinematics

Cause = Literal["central", "peroneal_nerve", "muscle"]
Recruitment = Literal["sigmoid", "hmed2018", "ding2007"]
ForceModel = Literal["riener", "ding2003"]


@dataclass(frozen=True)
class WalkerConfig(Config):
    """One simulated walker (the stimulated leg), validated on construction."""

    # body (anthropometry: Winter / Dempster tables, REFERENCE §3)
    height_m: float = param(1.75, unit="m", lo=1.3, hi=2.1, doc="body height")
    mass_kg: float = param(75.0, unit="kg", lo=35, hi=160, doc="body mass")
    shoe_mass_kg: float = param(0.4, unit="kg", lo=0, hi=1.5, doc="shoe mass added to the foot")
    foot_inertia_kgm2: float = param(0.02, unit="kg m^2", lo=0.004, hi=0.05, doc="foot + shoe inertia about the ankle (0.006-0.011 barefoot, ~0.02 shod; Benoussaad 2013)")
    # gait timing (REFERENCE §2)
    speed_mps: float = param(1.3, unit="m/s", lo=0.2, hi=2.2, doc="walking speed")
    cadence_spm: float = param(0.0, unit="steps/min", lo=0, hi=160, doc="cadence; 0 = from speed by the walk ratio 0.006 m/(steps/min) (Murakami & Otaka 2017)")
    stance_fraction: float = param(0.61, lo=0.56, hi=0.75, doc="toe-off as a fraction of the stride")
    contralateral_stance_fraction: float = param(0.0, lo=0, hi=0.85, doc="stance fraction of the other leg; 0 = the same (symmetric). After stroke the non-paretic stance is longer (Wang 2020: 1.01 s of a 1.36 s stride vs paretic 0.91 s); it moves the other heel strike, which starts this leg's pre-swing, earlier")
    stride_cv: float = param(0.025, lo=0, hi=0.2, doc="stride-time coefficient of variation (2-3 % healthy, Beauchet 2009)")
    stride_ar1: float = param(0.4, lo=0, hi=0.95, doc="lag-1 autocorrelation of stride times (0.3-0.5)")
    joint_offset_sd_deg: float = param(1.5, unit="deg", lo=0, hi=6, doc="per-stride offset SD on the joint curves in swing (1-3 deg)")
    # foot-drop physiology
    drop_foot_severity: float = param(0.0, lo=0, hi=1, doc="loss of voluntary dorsiflexion: 0 healthy, 1 none left")
    cause: Cause = param("central", doc="cause of foot drop: central lesion (nerve intact, spasticity possible), peroneal nerve injury (axons lost, flaccid) or muscle disease (nerve intact, flaccid)")
    surviving_axon_fraction: float = param(1.0, lo=0, hi=1, doc="fraction of peroneal axons intact; scales the evoked torque")
    voluntary_df_torque_nm: float = param(30.0, unit="N m", lo=0, hi=80, doc="voluntary dorsiflexor strength at severity 0 (controls loading response)")
    voluntary_kp_nm_per_rad: float = param(20.0, unit="N m/rad", lo=0, hi=200, doc="stiffness of the voluntary swing-foot tracking")
    voluntary_kd_nms_per_rad: float = param(0.9, unit="N m s/rad", lo=0, hi=10, doc="damping of the voluntary swing-foot tracking")
    passive_stiffness_scale: float = param(1.0, lo=0.2, hi=5, doc="multiplies the whole Riener & Edrich 1999 passive ankle moment (equilibrium unchanged)")
    contracture_deg: float = param(0.0, unit="deg", lo=0, hi=30, doc="plantarflexion contracture (shortened calf): shifts the dorsiflexion-resisting term of the passive moment, and so its equilibrium, towards plantarflexion")
    damping_nms_per_rad: float = param(0.5, unit="N m s/rad", lo=0, hi=3, doc="ankle viscous damping (0.3-0.8, uncertain)")
    spasticity_gain_nms_per_deg: float = param(0.0, unit="N m s/deg", lo=0, hi=0.2, doc="plantarflexor spasticity gain G_v (Jansen 2014): reflex torque command per deg/s of delayed stretch velocity above the threshold, through 40/80 ms activation dynamics; 0 = none")
    spasticity_threshold_dps: float = param(60.0, unit="deg/s", lo=0, hi=500, doc="stretch velocity threshold of spasticity")
    spasticity_delay_ms: float = param(40.0, unit="ms", lo=0, hi=100, doc="reflex delay of spasticity (30-60 ms)")
    heel_load_nm_per_kg: float = param(0.08, unit="N m/kg", lo=0, hi=0.5, doc="plantarflexing moment of the body load on the heel about the ankle in loading response (heel rocker, Perry & Burnfield 2010; calibration)")
    slap_velocity_dps: float = param(100.0, unit="deg/s", lo=10, hi=2000, doc="ankle plantarflexion velocity at forefoot contact above which the landing is a foot slap (uncontrolled plantarflexion, Blaya & Herr 2004; healthy about 15 deg/s here; calibration)")
    # evoked response (REFERENCE §5)
    max_evoked_torque_nm: float = param(15.0, unit="N m", lo=0, hi=40, doc="maximum evoked dorsiflexion torque (5-25 N m)")
    recruitment: Recruitment = param("sigmoid", doc="recruitment curve: sigmoid in charge; Hmed 2018 in current (no pulse-width input); Ding 2007 pulse-width curve as a function of charge, half at charge_half_uc")
    charge_half_uc: float = param(9.0, unit="uC", lo=0.5, hi=60, doc="charge per pulse at half recruitment (sigmoid, ding2007): 30 mA at 300 us; the peroneal nerve is superficial at the fibular head (uncertain)")
    charge_width_uc: float = param(2.5, unit="uC", lo=0.1, hi=30, doc="slope width of the charge sigmoid")
    emd_ms: float = param(25.0, unit="ms", lo=0, hi=100, doc="electromechanical delay plus stimulator latency (17 ms, Zhou 1995)")
    tau_act_ms: float = param(40.0, unit="ms", lo=5, hi=300, doc="activation time constant")
    tau_deact_ms: float = param(80.0, unit="ms", lo=5, hi=500, doc="deactivation time constant")
    fusion_constant_s: float = param(0.1, unit="s", lo=0.01, hi=1, doc="tetanic fusion factor (s f)^2/(1+(s f)^2) (unconfirmed)")
    torque_angle_opt_deg: float = param(-10.0, unit="deg", lo=-40, hi=20, doc="ankle angle of peak evoked torque")
    torque_angle_width_deg: float = param(45.0, unit="deg", lo=5, hi=200, doc="Gaussian width of the torque-angle relation")
    force_model: ForceModel = param("riener", doc="activation + Riener fatigue, or the Ding force-fatigue model (Ding 2003 constants; Ding 2007 constants with the ding2007 recruitment)")
    fatigue_mu_min: float = param(0.2, lo=0, hi=1, doc="Riener 1998 minimum fitness")
    fatigue_time_s: float = param(30.0, unit="s", lo=1, hi=3600, doc="Riener 1998 fatigue time constant (Ding 2003 uses 127 s scaled by this / 30 s)")
    recovery_time_s: float = param(50.0, unit="s", lo=1, hi=3600, doc="Riener 1998 recovery time constant")
    pushoff_stiffness_nm_per_deg: float = param(3.0, unit="N m/deg", lo=0.1, hi=50, doc="effective ankle stiffness of push-off around the prescribed path (sets how far an orthosis or a burst in push-off restricts it)")
    mtc_target_mm: float = param(13.0, unit="mm", lo=0, hi=40, doc="MTC of this walker with healthy ankle motion (calibration, REFERENCE §3)")
    # sensor placement
    sensor_below_knee_m: float = param(0.10, unit="m", lo=0.0, hi=0.4, doc="IMU distance below the knee joint along the shank")
    sensor_misalignment_deg: float = param(0.0, unit="deg", lo=-30, hi=30, doc="sagittal misalignment of the IMU on the shank")

    def check(self) -> None:
        if self.cause != "peroneal_nerve" and self.surviving_axon_fraction < 1.0:
            raise ConfigError(
                f"surviving_axon_fraction: {self.surviving_axon_fraction} with cause {self.cause!r}: the peroneal nerve (lower motor "
                "neuron) is intact in a central lesion or a muscle disease; denervation is cause 'peroneal_nerve'"
            )
        if self.cause != "central" and self.spasticity_gain_nms_per_deg > 0.0:
            raise ConfigError(
                f"spasticity_gain_nms_per_deg: {self.spasticity_gain_nms_per_deg} with cause {self.cause!r}: spasticity is a sign of a "
                "central (upper motor neuron) lesion; a nerve injury or a muscle disease leaves the muscle flaccid"
            )
        other = self.contralateral_stance_fraction
        if other and self.stance_fraction + other <= 1.0:
            raise ConfigError(
                f"contralateral_stance_fraction: {other} with stance_fraction {self.stance_fraction} leaves no double support (their sum must exceed 1)"
            )
        kinematics.warp_coefficients(self.stance_fraction, self.contralateral_strike)
        shank_m = kinematics.WINTER_SHANK_M * kinematics.body_scale(self.height_m)
        if self.sensor_below_knee_m > shank_m:
            raise ConfigError(f"sensor_below_knee_m: {self.sensor_below_knee_m} is below the ankle (shank {shank_m:.3f} m)")

    @property
    def contralateral_strike(self) -> float:
        """Phase of the other leg's heel strike in this leg's stride (0.5 for a symmetric gait)."""
        other = self.contralateral_stance_fraction or self.stance_fraction
        return kinematics.contralateral_strike_phase(self.stance_fraction, other)

    @property
    def cadence(self) -> float:
        """Cadence in steps/min (from speed when ``cadence_spm`` is 0)."""
        return self.cadence_spm if self.cadence_spm > 0 else float(kinematics.cadence_from_speed(self.speed_mps))

    @property
    def stride_s(self) -> float:
        """Mean stride time (s)."""
        return 120.0 / self.cadence


CONFIG_CLASS = WalkerConfig

PRESETS: dict[str, WalkerConfig] = {
    "healthy": WalkerConfig(),
    "drop_foot_mild": WalkerConfig(
        speed_mps=0.9, cadence_spm=100.0, stance_fraction=0.63, stride_cv=0.035, joint_offset_sd_deg=2.0,
        drop_foot_severity=0.7, max_evoked_torque_nm=14.0,
    ),
    "drop_foot_severe": WalkerConfig(
        speed_mps=0.7, cadence_spm=90.0, stance_fraction=0.65, stride_cv=0.04, joint_offset_sd_deg=2.0,
        drop_foot_severity=1.0, passive_stiffness_scale=1.3, contracture_deg=3.0, max_evoked_torque_nm=12.0,
    ),
    "hemiparetic_slow": WalkerConfig(
        speed_mps=0.5, cadence_spm=80.0, stance_fraction=0.68, contralateral_stance_fraction=0.75, stride_cv=0.05, stride_ar1=0.5,
        joint_offset_sd_deg=2.5,
        drop_foot_severity=0.9, passive_stiffness_scale=1.5, contracture_deg=5.0,
        spasticity_gain_nms_per_deg=0.02, max_evoked_torque_nm=12.0, fatigue_time_s=25.0,
    ),
    "peroneal_nerve_injury": WalkerConfig(
        speed_mps=0.9, cadence_spm=100.0, stance_fraction=0.63, drop_foot_severity=1.0,
        cause="peroneal_nerve", surviving_axon_fraction=0.1,
    ),
    "muscle_disease": WalkerConfig(
        speed_mps=0.8, cadence_spm=95.0, stance_fraction=0.64, drop_foot_severity=0.85,
        cause="muscle", max_evoked_torque_nm=6.0, fatigue_time_s=12.0,
    ),
}
