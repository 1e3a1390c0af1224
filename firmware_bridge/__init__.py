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

__all__ = ["BridgeError", "BackendError", "DeviceRefused", "FrameError", "LinkClosed", "LinkTimeout", "PortVanished"]
