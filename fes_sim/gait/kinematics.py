"""Normative sagittal gait kinematics (Winter 2009, Appendix A) as Fourier series.

Every curve is ``y(φ) = a0 + Σₖ aₖ·cos(2πkφ) + bₖ·sin(2πkφ)`` with φ ∈ [0, 1) the
gait phase from heel strike (REFERENCE §2; one subject at 1.42 m/s, stride 0.987 s,
toe-off at 60.9 %). Angles are in degrees, hip height in metres.

The leg chain uses the points whose angles the series describe (Winter's hip, knee and
ankle markers, checked against the marker table WinterTableA1 in tests/test_sim_chain.py):
thigh (hip → knee marker) 0.314 m and shank (knee → ankle marker) 0.424 m with the knee
extended, ankle marker 0.097 m above the floor with the foot flat (shod). The knee → ankle
marker distance is not constant: it shortens by up to 3 cm in early swing (soft tissue and
the knee marker moving about the flexion axis), and without that the chain puts the ankle
20-35 mm too low in early and mid swing. ``shank_length`` is that distance over the
cycle, fitted here to the table (4 harmonics, residual 3.4 mm). The marker leg standing
(0.834 m) is 0.530 H, the trochanter height of Winter's anthropometric table, for
:data:`WINTER_HEIGHT_M`; every length scales with height from there. The walking hip
(mean 0.811 m) is then 0.97 of the standing leg, as the data say.

Two published scalings are applied here:

* stance fraction, by a smooth monotone phase warp (:func:`warp_phase`) that puts
  toe-off at the chosen fraction and the other leg's heel strike (the start of pre-swing)
  at Winter's 50 %. REFERENCE §2 suggests a piecewise-linear warp; its kinks would put
  impulses into the simulated accelerometer, so a one-harmonic warp
  ``φₙ = φ − [b·sin(2πφ) + a·(1 − cos 2πφ)]/(2π)`` is used instead (monotone while
  √(a² + b²) < 1). A symmetric gait has its other heel strike at 50 % and a = 0; a
  hemiparetic gait has it earlier (:func:`contralateral_strike_phase`);
* speed, through cadence (walk ratio, Murakami & Otaka 2017) and a range-of-motion
  factor from Koopman, van Asseldonk & van der Kooij 2014 (peak swing knee flexion
  38.11 + 9.74·v − 1.105·v², v in km/h), applied to the varying part of every curve.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, register_jitable

from fes_sim.errors import ConfigError

#: Fourier coefficients (a0, a1..a6, b1..b6), REFERENCE §2 (Winter 2009, App. A)
COEFFS: dict[str, tuple[float, tuple[float, ...], tuple[float, ...]]] = {
    "ankle": (-2.30, (0.52, 0.13, -2.08, 2.20, -0.41, 0.62), (6.28, -7.56, 0.94, -1.45, -0.99, 0.06)),
    "knee": (22.49, (-8.09, -15.01, 0.31, -1.01, -0.24, 0.37), (-22.04, 10.84, 4.18, 0.77, 0.45, 0.03)),
    "hip": (7.19, (10.60, -3.90, -0.88, -0.16, -0.66, 0.14), (-6.73, -2.01, 2.04, -0.10, -0.26, 0.02)),
    "shank": (15.26, (-26.36, -8.08, 0.41, -0.69, 0.02, 0.19), (-12.46, 9.98, 1.91, 0.79, 0.58, 0.18)),
    "thigh": (-6.52, (-18.87, 4.90, 0.29, 0.26, 0.27, -0.14), (6.85, 0.95, -1.71, -0.03, 0.12, 0.05)),
    "foot": (-10.52, (27.21, 11.56, -3.24, 3.33, -0.56, 0.38), (20.18, -19.21, -1.78, -1.68, -1.67, 0.22)),
    "hip_height": (0.8107, (0.0056, -0.0163, -0.0068, 0.0006, 0.0, 0.0), (0.0078, -0.0071, 0.0025, 0.0013, 0.0, 0.0)),
    # knee → ankle marker distance (m), fitted to WinterTableA1 (heel strike at 0.385 s, stride 0.989 s)
    "shank_length": (0.4182, (0.0042, 0.0040, -0.0067, -0.0009, 0.0, 0.0), (0.0078, -0.0053, -0.0020, 0.0031, 0.0, 0.0)),
}

#: the order of the columns of :data:`COEFF_MATRIX` (an even number: :func:`fourier_rows` sums them in pairs)
SIGNALS: tuple[str, ...] = tuple(COEFFS)

#: Winter's trial (REFERENCE §2)
REF_SPEED_MPS = 1.42
REF_STRIDE_S = 0.987
REF_TOE_OFF = 0.609
#: walk ratio, step length / cadence (m per step/min), Murakami & Otaka 2017
WALK_RATIO_M_PER_SPM = 0.006
#: Winter's marker chain (m): hip → knee, knee → ankle with the knee extended, ankle marker above the floor
WINTER_THIGH_M, WINTER_SHANK_M, WINTER_ANKLE_M = 0.314, 0.424, 0.097
#: height of Winter's subject implied by the standing marker leg at 0.530 H (Winter's anthropometric table)
WINTER_HEIGHT_M = (WINTER_THIGH_M + WINTER_SHANK_M + WINTER_ANKLE_M) / 0.530
#: toe and heel points of the shod foot relative to the ankle (forward/back, below; m), REFERENCE §3.
#: They match Winter's subject (the table's toe and heel markers sit 0.168/0.051 and 0.059/0.050 m
#: from the ankle marker, about 1 cm above the sole), so they scale from Winter's height
TOE_FORWARD_M, TOE_BELOW_M, HEEL_BACK_M, HEEL_BELOW_M = 0.165, 0.059, 0.065, 0.059


def body_scale(height_m):
    """Length scale of a walker ``height_m`` tall relative to Winter's subject."""
    return height_m / WINTER_HEIGHT_M

N_HARMONICS = 6


def _coeff_matrix() -> np.ndarray:
    """(13, n_signals): rows a0, a1..a6, b1..b6."""
    m = np.zeros((1 + 2 * N_HARMONICS, len(SIGNALS)))
    for j, name in enumerate(SIGNALS):
        a0, a, b = COEFFS[name]
        m[0, j] = a0
        m[1 : 1 + N_HARMONICS, j] = a
        m[1 + N_HARMONICS :, j] = b
    return m


COEFF_MATRIX = _coeff_matrix()
_K = np.arange(1, N_HARMONICS + 1, dtype=float)


def basis(phase: np.ndarray) -> np.ndarray:
    """Fourier basis at ``phase`` (any shape): shape ``phase.shape + (13,)``.

    The harmonics come from powers of exp(2πiφ), so only one sine and cosine are evaluated.
    """
    p = np.asarray(phase, dtype=float)
    return np.moveaxis(_basis_rows(p.reshape(-1)), 0, -1).reshape(p.shape + (1 + 2 * N_HARMONICS,))


def _basis_rows(p: np.ndarray) -> np.ndarray:
    """Fourier basis of a flat phase array as rows (13, n), contiguous for one matrix product."""
    out = np.empty((1 + 2 * N_HARMONICS, p.size))
    out[0] = 1.0
    z1 = np.exp(2j * np.pi * p)
    z = z1.copy()
    for k in range(N_HARMONICS):
        out[1 + k] = z.real
        out[1 + N_HARMONICS + k] = z.imag
        if k + 1 < N_HARMONICS:
            np.multiply(z, z1, out=z)
    return out


def evaluate(name: str, phase: np.ndarray | float) -> np.ndarray:
    """One normative curve at ``phase`` (unscaled, unwarped)."""
    return basis(np.asarray(phase)) @ COEFF_MATRIX[:, SIGNALS.index(name)]


def evaluate_all(phase: np.ndarray) -> dict[str, np.ndarray]:
    """Every normative curve at ``phase``: name → array of ``phase.shape``."""
    p = np.ascontiguousarray(phase, dtype=float)
    values = np.empty((len(SIGNALS), p.size))
    _evaluate_rows(p.reshape(-1), values)
    return {name: values[j].reshape(p.shape) for j, name in enumerate(SIGNALS)}


@intrinsic
def fma(typingctx, a, b, c):  # noqa: ARG001 - numba's intrinsic signature
    """a·b + c with one rounding (the hardware fused multiply-add), in compiled code."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3), "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen


@register_jitable
def fourier_rows(zr, zi, basis, out):
    """Every curve of :data:`SIGNALS` (rows of ``out``, (8, n)) at the phases φ whose
    e^{2πiφ} = ``zr + i·zi`` (arrays (n,)); ``basis`` is scratch of (13, n).

    The same numbers as numpy's basis rows times the coefficient matrix on this machine:
    e^{2πiφ} from the C library's cosine and sine, its powers by complex products with fused
    multiply-adds (numpy's vectorised complex multiply), each curve a chain of fused
    multiply-adds over the basis in order (OpenBLAS' matrix product). Compiled, each loop
    runs over the phases without calls and vectorises; no BLAS threads. The curves are summed
    two at a time, each basis value loaded once for both (about 1.5 times faster than one).
    """
    n = zr.size
    h = N_HARMONICS
    for j in range(n):
        basis[0, j] = 1.0
        basis[1, j] = zr[j]
        basis[1 + h, j] = zi[j]
    for k in range(1, h):
        for j in range(n):
            re, im = basis[k, j], basis[k + h, j]
            basis[k + 1, j] = fma(re, zr[j], -(im * zi[j]))
            basis[k + 1 + h, j] = fma(re, zi[j], im * zr[j])
    for s in range(0, out.shape[0], 2):
        first, second = out[s], out[s + 1]
        for j in range(n):
            acc1 = acc2 = 0.0
            for k in range(1 + 2 * h):
                b = basis[k, j]
                acc1 = fma(COEFF_MATRIX[k, s], b, acc1)
                acc2 = fma(COEFF_MATRIX[k, s + 1], b, acc2)
            first[j], second[j] = acc1, acc2


@numba.njit(cache=True)
def _evaluate_rows(p: np.ndarray, out: np.ndarray) -> None:
    """:func:`fourier_rows` of every phase in ``p`` into the columns of ``out`` (curves, n)."""
    y = 2.0 * math.pi * p
    zr, zi = np.empty(p.size), np.empty(p.size)
    for j in range(p.size):
        zr[j], zi[j] = math.cos(y[j]), math.sin(y[j])
    fourier_rows(zr, zi, np.empty((1 + 2 * N_HARMONICS, p.size)), out)


def contralateral_strike_phase(stance_fraction: float, contralateral_stance_fraction: float) -> float:
    """Phase of the other leg's heel strike in this leg's stride, for the two legs' stance fractions
    and equal double supports (Wang et al. 2020: paretic and non-paretic double stance both 0.27 s)."""
    return 0.5 * (1.0 + stance_fraction - contralateral_stance_fraction)


def warp_coefficients(stance_fraction: float, contralateral_strike: float = 0.5) -> tuple[float, float]:
    """``(b, a)`` of the warp that maps toe-off at ``stance_fraction`` onto Winter's 60.9 % and the
    other leg's heel strike at ``contralateral_strike`` onto 50 %; ConfigError where no monotone
    warp of this form exists (stance fraction about 0.56-0.75)."""
    rows, rhs = [], []
    for phase, target in ((stance_fraction, REF_TOE_OFF), (contralateral_strike, 0.5)):
        w = 2.0 * math.pi * phase
        rows.append((math.sin(w) / (2.0 * math.pi), (1.0 - math.cos(w)) / (2.0 * math.pi)))
        rhs.append(phase - target)
    b, a = (float(x) for x in np.linalg.solve(np.array(rows), np.array(rhs)))
    if math.hypot(a, b) >= 0.95:
        raise ConfigError(
            f"stance_fraction {stance_fraction} with the other heel strike at {contralateral_strike:.3f} "
            "cannot be reached by a smooth phase warp (stance fraction about 0.56..0.75)"
        )
    return b, a


@register_jitable
def warp_phase(phase: np.ndarray, b: np.ndarray | float, a: np.ndarray | float = 0.0, sin=np.sin, cos=np.cos) -> np.ndarray:
    """Walker phase → normative phase: ``φ − [b·sin(2πφ) + a·(1 − cos 2πφ)]/(2π)`` (monotone, smooth, periodic)."""
    w = 2.0 * np.pi * phase
    return warp_from_sincos(phase, b, a, sin(w), cos(w))


@register_jitable
def warp_from_sincos(phase, b, a, sin_w, cos_w):
    """:func:`warp_phase` from the sine and cosine of 2πφ."""
    return phase - (b * sin_w + a * (1.0 - cos_w)) / (2.0 * np.pi)


def unwarp_phase(phase_n: float, b: float, a: float = 0.0) -> float:
    """Inverse of :func:`warp_phase` for one value (Newton iterations)."""
    p = phase_n
    for _ in range(30):
        w = 2 * math.pi * p
        g = p - (b * math.sin(w) + a * (1.0 - math.cos(w))) / (2 * math.pi) - phase_n
        p -= g / (1.0 - b * math.cos(w) - a * math.sin(w))
    return p


def cadence_from_speed(speed_mps: float | np.ndarray) -> np.ndarray:
    """Cadence (steps/min) at a constant walk ratio: v = WR·c²/60 (Murakami & Otaka 2017)."""
    return np.sqrt(np.asarray(speed_mps, dtype=float) * 60.0 / WALK_RATIO_M_PER_SPM)


def knee_swing_peak_deg(speed_mps: float | np.ndarray) -> np.ndarray:
    """Peak swing knee flexion (deg) at a speed, Koopman et al. 2014 (v in km/h)."""
    v = np.asarray(speed_mps, dtype=float) * 3.6
    return 38.11 + 9.74 * v - 1.105 * v * v


def rom_scale(speed_mps: float | np.ndarray) -> np.ndarray:
    """Range-of-motion factor relative to Winter's 1.42 m/s, from the knee regression."""
    return knee_swing_peak_deg(speed_mps) / knee_swing_peak_deg(REF_SPEED_MPS)


def heel_off_phase(threshold_deg: float = 2.0) -> float:
    """Normative phase at which the heel starts to rise: foot pitch falls ``threshold_deg`` below its
    mid-stance (foot-flat) value after 20 % of the cycle."""
    p = np.linspace(0.15, REF_TOE_OFF, 2000)
    pitch = evaluate("foot", p)
    flat = pitch[np.searchsorted(p, 0.25)]
    below = np.nonzero((p > 0.25) & (pitch < flat - threshold_deg))[0]
    return float(p[below[0]])
