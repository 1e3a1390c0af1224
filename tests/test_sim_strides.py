"""Stride schedules: batched noise draws and the walk-only batch give each walker the strides it draws alone."""

from __future__ import annotations

import numpy as np

from fes_sim.config import get_preset
from fes_sim.gait.motion import Motion
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.variability import StrideSequence
from fes_sim.population import sample_walkers


def _sequence(seed: int, strides_per_draw: int) -> StrideSequence:
    return StrideSequence([1.1, 1.4], [0.03, 0.2], [0.4, 0.9], [2.0, 1.0], [np.random.default_rng([seed, i]) for i in range(2)], strides_per_draw)


def test_batched_noise_draws_give_the_strides_of_one_draw_per_stride() -> None:
    one, many = _sequence(5, 1), _sequence(5, 7)
    rows = [np.array([0, 1]), np.array([1]), np.array([0])] * 9
    for r in rows:
        for a, b in zip(one.next(r), many.next(r)):
            assert np.array_equal(a, b)


def test_walk_batch_strides_match_each_walker_alone() -> None:
    walkers = sample_walkers(get_preset("walker", "healthy"), 6, seed=2)
    batched = [Motion(w, Scenario(), np.random.default_rng(i)) for i, w in enumerate(walkers)]
    alone = [Motion(w, Scenario(), np.random.default_rng(i)) for i, w in enumerate(walkers)]
    for b in range(60):
        t0_s, t1_s = 0.5 * b - 0.01, 0.5 * b + 0.51
        starts, durations, offsets = Motion.stride_tables(batched, t0_s, t1_s)
        for w, m in enumerate(alone):
            m.ensure(t1_s)
            s, d, o = (x[0] for x in m.entries[0].strides.window(t0_s))
            k = s.size
            assert np.array_equal(starts[w, :k], s) and np.array_equal(durations[w, :k], d) and np.array_equal(offsets[w, :k], o)
            assert np.all(np.isinf(starts[w, k:]))
    t = np.arange(30000, 31000) / 1000.0  # a batched motion used alone carries on where the batch left it
    for a, b in zip(batched[:2], alone[:2]):
        ca, cb = a.channels(t), b.channels(t)
        assert all(np.array_equal(ca[name], cb[name], equal_nan=True) for name in ca)
