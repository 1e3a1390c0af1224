"""The interface every stimulator link backend implements.

Like python-can's ``BusABC``, the shared behaviour lives once in this base class
(idempotent :meth:`Link.close` that always stops stimulation first, the context
manager, the warning for a link that was never closed), and a backend
implements the ``_``-prefixed hooks plus the device operations it supports.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceInfo:
    """Identity and hardware maxima of the device at the other end of a link."""

    protocol_version: int
    firmware_version: int
    device_id: int
    capabilities: int
    channels: int
    sample_rate_hz: int
    max_current_ma: float
    max_pulse_width_us: float
    min_frequency_hz: float
    max_frequency_hz: float
    max_charge_uc: float
    max_on_ms: int
    watchdog_ms: int


class Link(ABC):
    """A connection to one stimulator.

    Backends implement :meth:`_send_stop` (switch the output off, best effort)
    and :meth:`_shutdown` (release threads and the port); the device
    operations (``configure``, ``start``, ...) are defined by each backend's
    protocol.
    """

    #: backend name as used by :func:`firmware_bridge.link.open_link`
    backend_name = ""

    def __init__(self) -> None:
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    @property
    @abstractmethod
    def device(self) -> DeviceInfo:
        """What the device announced when the link opened."""

    @abstractmethod
    def _send_stop(self) -> None:
        """Switch the device's output off; must not raise and must not block for long."""

    @abstractmethod
    def _shutdown(self) -> None:
        """Stop the link's threads and close the port; must not raise."""

    def close(self) -> None:
        """Stop stimulation, then release the port. Safe to call any number of times."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._send_stop()
        finally:
            self._shutdown()

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            log.warning("%s was not closed; stopping stimulation and closing it now", type(self).__name__)
            self.close()
