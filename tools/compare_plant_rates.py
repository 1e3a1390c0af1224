"""What a plant rate costs in fidelity: stride outcomes at each rate against a faster plant
(2 kHz unless ``--reference`` says otherwise, where the outcomes have converged).

A population of walkers sampled around ``drop_foot_severe`` walks twice at each plant rate
(200 Hz sensor), once without stimulation and once with bursts (45 mA, 300 us, 40 Hz for
90 of every 260 sensor periods, each walker at its own phase, as tools/bench_sim.py). For
every stride that both rates complete the script prints the difference of minimum toe
clearance (median and 95th percentile of its magnitude), of the initial-contact time and
the toe-drag rates.

Usage: python tools/compare_plant_rates.py [--n 100] [--seconds 40] [--rates 200 400 1000] [--reference 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

from fes_sim.body.strides import matched_strides
from fes_sim.config import get_preset
from fes_sim.population import Population


def strides_at(rate_hz: float, n: int, seconds: float, stimulated: bool) -> list:
    pop = Population.sample(get_preset("walker", "drop_foot_severe"), n, seed=3, plant_rate_hz=rate_hz)
    pop.reset(1)
    phase = np.arange(n)
    for k in range(int(seconds * pop.sample_rate_hz)):
        pop.advance(np.where(stimulated & ((k + phase) % 260 < 90), 45.0, 0.0), 300.0, 40.0)
    return pop.strides


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="walkers")
    ap.add_argument("--seconds", type=float, default=40.0, help="simulated seconds")
    ap.add_argument("--rates", type=float, nargs="+", default=[200.0, 400.0, 1000.0], help="plant rates to compare")
    ap.add_argument("--reference", type=float, default=2000.0, help="plant rate of the reference run (Hz)")
    args = ap.parse_args()
    for stimulated in (False, True):
        reference = strides_at(args.reference, args.n, args.seconds, stimulated)
        for rate in args.rates:
            strides = strides_at(rate, args.n, args.seconds, stimulated)
            pairs = matched_strides(strides, reference)
            mtc = np.array([a.mtc_mm - b.mtc_mm for a, b in pairs])
            ic_ms = np.array([a.t_end_s - b.t_end_s for a, b in pairs]) * 1e3
            drag = (np.mean([a.toe_drag for a, _ in pairs]), np.mean([b.toe_drag for _, b in pairs]))
            print(
                f"{'stimulated' if stimulated else 'no stimulation'}, {rate:.0f} Hz vs {args.reference:.0f} Hz, {len(pairs)} strides: "
                f"MTC difference median {np.median(mtc):+.2f} mm, |.| p95 {np.percentile(np.abs(mtc), 95):.2f} mm; "
                f"contact time median {np.median(ic_ms):+.1f} ms, |.| p95 {np.percentile(np.abs(ic_ms), 95):.1f} ms; "
                f"toe drag {drag[0]:.1%} vs {drag[1]:.1%}"
            )


if __name__ == "__main__":
    main()
