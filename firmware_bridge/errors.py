"""Exception hierarchy of :mod:`firmware_bridge`.

Every error carries ``exit_code``; the ``fes`` command prints the message on one
line and exits with that code (2 for a user mistake, 3 for a device or link
failure, 4 when the port vanished).
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every error raised on purpose by the firmware bridge."""

    exit_code = 3


class FrameError(BridgeError, ValueError):
    """A frame cannot be encoded (value out of its wire range, unknown message)."""

    exit_code = 2


class BackendError(BridgeError, ValueError):
    """No link backend matches a name or URL, or its options are wrong."""

    exit_code = 2


class LinkTimeout(BridgeError, TimeoutError):
    """The device did not answer a request within its time-out, after all retries."""


class DeviceRefused(BridgeError):
    """The device answered a request with a NAK; ``code`` is the :class:`NakCode`."""

    def __init__(self, message: str, code: int, detail: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


class PortVanished(BridgeError, ConnectionError):
    """The serial port disappeared or failed while the link was open."""

    exit_code = 4


class LinkClosed(BridgeError):
    """An operation was attempted on a link that is already closed."""
