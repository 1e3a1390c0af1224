"""Serial ports of this machine (pyserial's ``list_ports``)."""

from __future__ import annotations

from serial.tools import list_ports as _list_ports
from serial.tools.list_ports_common import ListPortInfo


def list_ports(include_all: bool = False) -> list[ListPortInfo]:
    """Ports sorted by device name; ``include_all`` keeps those without a description."""
    ports = _list_ports.comports(include_links=False)
    if not include_all:
        ports = [p for p in ports if p.description and p.description != "n/a"]
    return sorted(ports, key=lambda p: p.device)
