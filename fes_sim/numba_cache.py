"""Numba's compiled code is rebuilt when any of the package's compiled sources changes.

Numba caches a compiled function beside its source (``__pycache__/*.nbi``, ``*.nbc``) and
rebuilds it when that one file changes, not when a function it inlines from another module
does (``register_jitable`` functions: the foot, muscle and passive models, the sines, the
normals). After a ``git pull`` that changes only those, an editable install would run the
old compiled kernel beside the new Python reference path. So on import the package hashes
every source that uses numba and, when the hash differs from the one saved with the caches,
deletes the caches (numba rebuilds them on first use, half a minute to a minute).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: where the hash of the compiled sources is kept, beside numba's caches of the package
_STAMP = Path("__pycache__") / "numba_sources.sha256"


def compiled_sources_digest(package_dir: Path) -> str:
    """SHA-256 over the package's sources that use numba (path and content of each)."""
    h = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            h.update(path.relative_to(package_dir).as_posix().encode() + b"\0" + text + b"\0")
    return h.hexdigest()


def drop_stale_caches(package_dir: Path) -> bool:
    """Delete numba's caches under ``package_dir`` if its compiled sources changed since they
    were saved; True if it did. Silent where the package cannot be written (an installed
    release: its files are all new, which numba's own check catches)."""
    stamp = package_dir / _STAMP
    digest = compiled_sources_digest(package_dir)
    try:
        if stamp.is_file() and stamp.read_text() == digest:
            return False
        for cache in (*package_dir.rglob("*.nbi"), *package_dir.rglob("*.nbc")):
            cache.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return True
