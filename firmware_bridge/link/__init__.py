"""Stimulator links, chosen by backend name as python-can chooses its interfaces.

``open_link(port)`` opens our protocol (backend ``fes``) on any pyserial port
name or URL (``/dev/ttyACM0``, ``COM5``, ``loop://``, ``spy://...``) and on the
in-process device emulator ``fesemu://``. Another stimulator protocol plugs in
by adding its class to :data:`BACKENDS` (or calling :func:`register_backend`):
a backend module is imported only when chosen, so a missing driver never breaks
the others. Choose it with ``backend="name"`` or the prefix ``name::PORT``.
"""

from __future__ import annotations

import importlib
from typing import Any

from firmware_bridge.errors import BackendError
from firmware_bridge.link.base import DeviceInfo, Link

#: backend name → "module:Class"; imported lazily
BACKENDS: dict[str, str] = {
    "fes": "firmware_bridge.link.fes_link:FesLink",
}

DEFAULT_BACKEND = "fes"


def register_backend(name: str, target: str) -> None:
    """Make ``target`` (``"package.module:Class"``, a :class:`Link` subclass) available as ``name``."""
    if ":" not in target:
        raise BackendError(f"backend target {target!r} must look like 'package.module:Class'")
    BACKENDS[name] = target


def split_target(port: str, backend: str | None = None) -> tuple[str, str]:
    """``(backend, port)`` from a port string that may start with ``name::``."""
    if "::" in port:
        prefix, rest = port.split("::", 1)
        if prefix in BACKENDS:
            if backend is not None and backend != prefix:
                raise BackendError(f"port {port!r} names backend {prefix!r} but backend={backend!r} was given")
            return prefix, rest
    return backend or DEFAULT_BACKEND, port


def backend_class(name: str) -> type[Link]:
    """Import and return the :class:`Link` class registered as ``name``."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise BackendError(f"unknown link backend {name!r} (known: {', '.join(sorted(BACKENDS))})") from None
    module_name, _, cls_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"link backend {name!r} cannot be loaded from {target}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Link)):
        raise BackendError(f"link backend {name!r}: {target} is not a Link subclass")
    return cls


def open_link(port: str, backend: str | None = None, **options: Any) -> Link:
    """Open ``port`` with the chosen backend (default ``fes``) and return the connected link."""
    name, port_name = split_target(port, backend)
    return backend_class(name).open(port_name, **options)  # type: ignore[attr-defined,no-any-return]


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "DeviceInfo", "Link", "backend_class", "open_link", "register_backend", "split_target"]
