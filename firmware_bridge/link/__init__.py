"""Stimulator links, chosen by backend name as python-can chooses its interfaces.

``open_link(port)`` opens our protocol (backend ``fes``) on any pyserial port
name or URL (``/dev/ttyACM0``, ``COM5``, ``loop://``, ``spy://...``) and on the
in-process device emulator ``fesemu://``. Another stimulator protocol plugs in
as a backend in either of two ways:

* an installed package declares an entry point in the group
  ``firmware_bridge.backends`` (``name = "package.module:Class"``), as python-can
  plug-ins declare ``can.interface``;
* code calls :func:`register_backend` (or adds to :data:`BACKENDS`), which wins
  over an entry point of the same name.

Nothing is imported until a backend is chosen, so a missing driver or a broken
plug-in never breaks the others (choosing the broken one gives a
:class:`~firmware_bridge.errors.BackendError`). Choose a backend with
``backend="name"`` or the prefix ``name::PORT``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from typing import Any

from firmware_bridge.errors import BackendError
from firmware_bridge.link.base import DeviceInfo, Link

log = logging.getLogger(__name__)

#: backend name → "module:Class"; imported lazily
BACKENDS: dict[str, str] = {
    "fes": "firmware_bridge.link.fes_link:FesLink",
}

DEFAULT_BACKEND = "fes"

ENTRY_POINT_GROUP = "firmware_bridge.backends"
"""Entry-point group in which installed packages declare link backends."""


def plugin_backends() -> dict[str, str]:
    """Backends declared by installed packages: name → ``"module:Class"`` (nothing imported)."""
    try:
        points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception as exc:  # broken metadata of some distribution must not break the bridge
        log.warning("cannot read %s entry points: %s", ENTRY_POINT_GROUP, exc)
        return {}
    return {ep.name: ep.value for ep in points}


def available_backends() -> list[str]:
    """Names of every backend that can be chosen (registered or declared by an installed package)."""
    return sorted(set(BACKENDS) | set(plugin_backends()))


def register_backend(name: str, target: str) -> None:
    """Make ``target`` (``"package.module:Class"``, a :class:`Link` subclass) available as ``name``."""
    if ":" not in target:
        raise BackendError(f"backend target {target!r} must look like 'package.module:Class'")
    BACKENDS[name] = target


def split_target(port: str, backend: str | None = None) -> tuple[str, str]:
    """``(backend, port)`` from a port string that may start with ``name::``."""
    if "::" in port:
        prefix, rest = port.split("::", 1)
        if prefix in BACKENDS or prefix in plugin_backends():
            if backend is not None and backend != prefix:
                raise BackendError(f"port {port!r} names backend {prefix!r} but backend={backend!r} was given")
            return prefix, rest
    return backend or DEFAULT_BACKEND, port


def backend_class(name: str) -> type[Link]:
    """Import and return the :class:`Link` class registered (or declared by an entry point) as ``name``."""
    target = BACKENDS.get(name) or plugin_backends().get(name)
    if target is None:
        raise BackendError(f"unknown link backend {name!r} (known: {', '.join(available_backends())})")
    module_name, _, cls_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except Exception as exc:  # whatever a broken plug-in raises on import, choosing it is one clear error
        raise BackendError(f"link backend {name!r} cannot be loaded from {target}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Link)):
        raise BackendError(f"link backend {name!r}: {target} is not a Link subclass")
    return cls


def open_link(port: str, backend: str | None = None, **options: Any) -> Link:
    """Open ``port`` with the chosen backend (default ``fes``) and return the connected link."""
    name, port_name = split_target(port, backend)
    return backend_class(name).open(port_name, **options)  # type: ignore[attr-defined,no-any-return]


__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "ENTRY_POINT_GROUP", "DeviceInfo", "Link", "available_backends", "backend_class",
    "open_link", "plugin_backends", "register_backend", "split_target",
]
