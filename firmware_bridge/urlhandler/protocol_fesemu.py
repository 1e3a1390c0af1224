"""pyserial handler for ``fesemu://?key=value&...``: a device emulator in this process.

Options are the fields of :class:`firmware_bridge.emulator.EmulatorConfig`
(fault-injection keys with or without ``faults.``), for example
``fesemu://?watchdog_ms=100&flip_per_byte=1e-4&seed=3``. Opening starts the
emulator thread; closing stops it. When the emulator disconnects (injected
fault), reads and writes raise :class:`serial.SerialException`, like an unplugged
USB device.
"""

from __future__ import annotations


from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from firmware_bridge.emulator.config import config_from_url
from firmware_bridge.emulator.runner import Emulator, serve_pipe
from firmware_bridge.emulator.transport import PipeTransport, TransportClosed
from firmware_bridge.errors import BridgeError


class Serial(SerialBase):
    """A pyserial port whose other end is an emulated stimulator."""

    emulator: Emulator | None = None
    _pipe: PipeTransport | None = None

    def open(self) -> None:
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        if self.is_open:
            raise SerialException("port already open")
        try:
            config = config_from_url(self.portstr)
        except BridgeError as exc:
            raise SerialException(str(exc)) from None
        self.emulator, self._pipe = serve_pipe(config)
        self.is_open = True

    def from_url(self, url: str) -> str:
        config_from_url(url)
        return url

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            if self.emulator is not None:
                self.emulator.stop()

    def _reconfigure_port(self) -> None:
        """Nothing to configure: the emulator ignores line settings."""

    @property
    def in_waiting(self) -> int:
        if not self.is_open or self._pipe is None:
            raise PortNotOpenError()
        try:
            return self._pipe.host_waiting()
        except TransportClosed as exc:
            raise SerialException(f"fesemu: {exc}") from None

    def read(self, size: int = 1) -> bytes:
        if not self.is_open or self._pipe is None:
            raise PortNotOpenError()
        out = bytearray()
        timeout = Timeout(self._timeout)
        while len(out) < size:
            try:
                out += self._pipe.host_read(size - len(out), None if timeout.is_infinite else timeout.time_left())
            except TransportClosed as exc:
                raise SerialException(f"fesemu: {exc}") from None
            if timeout.expired():
                break
        return bytes(out)

    def write(self, data: bytes) -> int:
        if not self.is_open or self._pipe is None:
            raise PortNotOpenError()
        try:
            self._pipe.host_write(bytes(data))
        except TransportClosed as exc:
            raise SerialException(f"fesemu: {exc}") from None
        return len(data)

    def reset_input_buffer(self) -> None:
        if self._pipe is not None:
            self._pipe.host_read(1 << 30, 0)

    def reset_output_buffer(self) -> None:
        """Writes are delivered at once; nothing is buffered."""

    def flush(self) -> None:
        """Writes are delivered at once."""

    # pyserial's API includes modem lines; the emulator has none
    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True


