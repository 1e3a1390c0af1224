"""Ding 2003 force-fatigue model of an electrically stimulated muscle (REFERENCE §5).

States C_N (calcium-troponin, dimensionless) and F (N), with fatigue states A, τ1, Km:

* dC_N/dt = (1/τc)·Σᵢ Rᵢ·exp(−(t − tᵢ)/τc) − C_N/τc,
  R₁ = 1, Rᵢ = 1 + (R0 − 1)·exp(−(tᵢ − tᵢ₋₁)/τc), R0 = Km_rest + 1.04
* dF/dt = A·C_N/(Km + C_N) − F/(τ1 + τ2·C_N/(Km + C_N))
* dA/dt = −(A − A_rest)/τ_fat + α_A·F, and likewise for τ1 and Km.

Parameters follow cocofest's ``ding2003`` (Ding et al. 2003; the cocofest source writes
the fatigue rates as −4.0·10e−2 etc., with 10e−2 = 0.1). :func:`reference_forces` is
cocofest's test set-up, which reproduces its published values to 1e-6 relative.

:data:`DING2007` holds the constants of the pulse-width model of Ding et al. 2007 (Muscle
Nerve 36:214; REFERENCE §5): A_max 4920 N/s, τ1 0.060601 s, τ2 0.001 s, Km 0.137, τc
0.011 s, with cocofest's fatigue rates of 2003. In the plant the recruited fraction
scales A in the force equation, as A(pw) does in Ding 2007 and λ(I) in Hmed 2018, so the
force that drives fatigue is the recruited force.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ding2003:
    """Model constants (cocofest defaults)."""

    tau_c_s: float = 0.020
    a_rest_n_per_s: float = 3009.0
    tau1_rest_s: float = 0.050957
    tau2_s: float = 0.060
    km_rest: float = 0.103
    alpha_a: float = -4.0e-1
    alpha_tau1: float = 2.1e-5
    alpha_km: float = 1.9e-5
    tau_fat_s: float = 127.0

    @property
    def r0(self) -> float:
        """R0 = Km_rest + 1.04 (uses the rested Km, not the Km state)."""
        return self.km_rest + 1.04


#: Ding et al. 2007 (pulse-width model, cocofest ``ding2007``): its own force constants, 2003's fatigue rates
DING2007 = Ding2003(tau_c_s=0.011, a_rest_n_per_s=4920.0, tau1_rest_s=0.060601, tau2_s=0.001, km_rest=0.137)


def pulse_sum(t_s: float, pulses_s: np.ndarray, m: Ding2003) -> float:
    """Σ Rᵢ·exp(−(t − tᵢ)/τc) over the given pulses (the first gets R = 1)."""
    total = 0.0
    prev = None
    for ti in pulses_s:
        r = 1.0 if prev is None else 1.0 + (m.r0 - 1.0) * math.exp(-(ti - prev) / m.tau_c_s)
        total += r * math.exp(-(t_s - ti) / m.tau_c_s)
        prev = ti
    return total


def derivatives(t_s: float, state: np.ndarray, pulses_s: np.ndarray, m: Ding2003, fatigue: bool = True) -> np.ndarray:
    """d/dt of ``[C_N, F]`` or, with fatigue, ``[C_N, F, A, τ1, Km]``."""
    cn, f = state[0], state[1]
    a, tau1, km = (state[2], state[3], state[4]) if fatigue else (m.a_rest_n_per_s, m.tau1_rest_s, m.km_rest)
    d_cn = pulse_sum(t_s, pulses_s, m) / m.tau_c_s - cn / m.tau_c_s
    x = cn / (km + cn)
    d_f = a * x - f / (tau1 + m.tau2_s * x)
    if not fatigue:
        return np.array([d_cn, d_f])
    return np.array([
        d_cn, d_f,
        -(a - m.a_rest_n_per_s) / m.tau_fat_s + m.alpha_a * f,
        -(tau1 - m.tau1_rest_s) / m.tau_fat_s + m.alpha_tau1 * f,
        -(km - m.km_rest) / m.tau_fat_s + m.alpha_km * f,
    ])


def reference_forces(fatigue: bool, m: Ding2003 = Ding2003(), n_pulses: int = 34, keep: int = 10, substeps: int = 10) -> np.ndarray:
    """Force at the nodes in cocofest's test set-up (tests/shard1/test_ivp.py).

    Pulses at ``linspace(0, 1, n_pulses)``; in the interval after each node the pulses with
    t ≤ node are held (the last ``keep``); RK4 with ``substeps`` per interval; zero start
    (A, τ1, Km at rest).
    """
    nodes = np.linspace(0.0, 1.0, n_pulses)
    state = np.array([0.0, 0.0, m.a_rest_n_per_s, m.tau1_rest_s, m.km_rest]) if fatigue else np.zeros(2)
    forces = [state[1]]
    for k in range(n_pulses - 1):
        pulses = nodes[: k + 1][-keep:]
        h = (nodes[k + 1] - nodes[k]) / substeps
        t = nodes[k]
        for _ in range(substeps):
            k1 = derivatives(t, state, pulses, m, fatigue)
            k2 = derivatives(t + h / 2, state + h / 2 * k1, pulses, m, fatigue)
            k3 = derivatives(t + h / 2, state + h / 2 * k2, pulses, m, fatigue)
            k4 = derivatives(t + h, state + h * k3, pulses, m, fatigue)
            state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += h
        forces.append(state[1])
    return np.array(forces)


class Ding2003State:
    """The Ding force-fatigue model stepped inside the plant, pulses generated at the stimulation frequency.

    The pulse sum is carried recursively (it decays by exp(−dt/τc) each step), so every
    past pulse counts. The recruited fraction of the last pulse scales A; ``force_fraction``
    is F over the largest force the rested, fully recruited model reaches, A·(τ1 + τ2)
    (clipped to 1).

    Parameters
    ----------
    tau_fat_s
        Fatigue time constant (replaces the model's).
    model
        Model constants: :class:`Ding2003` (default) or :data:`DING2007`.
    """

    def __init__(self, tau_fat_s: float = 127.0, model: Ding2003 | None = None) -> None:
        self.m = dataclasses.replace(model if model is not None else Ding2003(), tau_fat_s=tau_fat_s)
        m = self.m
        self.cn = 0.0
        self.f = 0.0
        self.a = m.a_rest_n_per_s
        self.tau1 = m.tau1_rest_s
        self.km = m.km_rest
        self._sum = 0.0
        self._period = 0.0
        self._since = math.inf
        self._amplitude = 0.0
        self._f_ref = m.a_rest_n_per_s * (m.tau1_rest_s + m.tau2_s)
        self.force_fraction = 0.0

    def set_train(self, frequency_hz: float) -> None:
        """Pulse rate of the train that follows (0 stops pulses)."""
        self._period = 1.0 / frequency_hz if frequency_hz > 0 else 0.0

    def step(self, dt_s: float, amplitude: float) -> None:
        """Advance by ``dt_s``; a pulse fires when ``amplitude`` > 0 and a period has passed."""
        m = self.m
        self._since += dt_s
        if amplitude > 0.0 and self._period > 0.0 and self._since >= self._period - 1e-12:
            r = 1.0 + (m.r0 - 1.0) * math.exp(-self._since / m.tau_c_s)
            self._sum += r
            self._since = 0.0
            self._amplitude = amplitude
        x = self.cn / (self.km + self.cn)
        d_cn = (self._sum - self.cn) / m.tau_c_s
        d_f = self._amplitude * self.a * x - self.f / (self.tau1 + m.tau2_s * x)
        f = self.f
        self.a += dt_s * (-(self.a - m.a_rest_n_per_s) / m.tau_fat_s + m.alpha_a * f)
        self.tau1 += dt_s * (-(self.tau1 - m.tau1_rest_s) / m.tau_fat_s + m.alpha_tau1 * f)
        self.km += dt_s * (-(self.km - m.km_rest) / m.tau_fat_s + m.alpha_km * f)
        self.cn += dt_s * d_cn
        self.f = max(0.0, f + dt_s * d_f)
        self._sum *= math.exp(-dt_s / m.tau_c_s)
        self.force_fraction = min(1.0, self.f / self._f_ref)

    @property
    def fatigue(self) -> float:
        """A over its rested value (1 = fresh)."""
        return self.a / self.m.a_rest_n_per_s
