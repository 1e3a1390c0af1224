"""pyserial URL handlers of the bridge: ``fesemu://`` opens the in-process device emulator.

pyserial's ``serial_for_url`` imports ``protocol_<scheme>`` from each package in
``serial.protocol_handler_packages``; :func:`register` adds this package there.
"""

from __future__ import annotations

import serial

PACKAGE = __name__


def register() -> None:
    """Make ``fesemu://`` openable by ``serial.serial_for_url`` (idempotent)."""
    if PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(PACKAGE)
