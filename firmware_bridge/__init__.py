"""Everything that crosses the serial wire to a stimulator: protocol, link, emulator, HIL.

``fes_sim`` never imports this package; this package imports ``fes_sim`` for its
sample types and reference controller.
"""

from firmware_bridge.errors import (
    BackendError,
    BridgeError,
    DeviceRefused,
    FrameError,
    LinkClosed,
    LinkTimeout,
    PortVanished,
)
from firmware_bridge.urlhandler import register as _register_url_handler

_register_url_handler()  # makes fesemu:// openable by serial.serial_for_url everywhere

__all__ = ["BridgeError", "BackendError", "DeviceRefused", "FrameError", "LinkClosed", "LinkTimeout", "PortVanished"]
