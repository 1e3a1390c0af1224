"""Numba's caches are dropped when a compiled source changes, in any module (fes_sim.numba_cache)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fes_sim.numba_cache import drop_stale_caches


def _cache(pkg: Path) -> Path:
    c = pkg / "body" / "__pycache__" / "kernel.step-12.py311.nbi"
    c.parent.mkdir(parents=True, exist_ok=True)
    c.write_bytes(b"compiled")
    return c


def test_caches_go_when_a_compiled_source_changes_and_stay_otherwise(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "body").mkdir(parents=True)
    (pkg / "body" / "passive.py").write_text("from numba.extending import register_jitable\n")
    (pkg / "cli.py").write_text("print('no compiled code here')\n")
    cache = _cache(pkg)
    assert drop_stale_caches(pkg) and not cache.exists()  # no saved hash yet: caches of unknown sources go
    cache = _cache(pkg)
    assert not drop_stale_caches(pkg) and cache.exists()
    (pkg / "cli.py").write_text("print('changed, still no compiled code')\n")
    assert not drop_stale_caches(pkg) and cache.exists()
    (pkg / "body" / "passive.py").write_text("from numba.extending import register_jitable\nCAP = 40.0\n")
    assert drop_stale_caches(pkg) and not cache.exists()
    (pkg / "body" / "new_model.py").write_text("import numba\n")  # a new compiled module counts too
    cache = _cache(pkg)
    assert drop_stale_caches(pkg) and not cache.exists()


def test_the_package_saves_the_hash_of_its_compiled_sources() -> None:
    import fes_sim
    from fes_sim.numba_cache import compiled_sources_digest

    pkg = Path(fes_sim.__file__).resolve().parent
    if not os.access(pkg, os.W_OK):
        pytest.skip("an installed, read-only package keeps no hash (numba's own check covers it)")
    stamp = pkg / "__pycache__" / "numba_sources.sha256"
    assert stamp.read_text() == compiled_sources_digest(pkg)
