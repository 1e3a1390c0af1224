"""A stimulator in software that implements the device side of docs/protocol.md.

Open it in-process with the pyserial URL ``fesemu://?option=value...`` or serve
it on a pseudo-terminal (``fes emulate --pty``) for the real OS serial path.
"""

from firmware_bridge.emulator.config import EmulatorConfig, FaultInjection, config_from_options, config_from_url
from firmware_bridge.emulator.device import DeviceLogic
from firmware_bridge.emulator.runner import Emulator, serve_pipe, serve_pty

__all__ = [
    "DeviceLogic", "Emulator", "EmulatorConfig", "FaultInjection", "config_from_options", "config_from_url",
    "serve_pipe", "serve_pty",
]
