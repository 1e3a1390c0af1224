"""Byte transports an emulated device serves on: a pseudo-terminal, or in-process pipes."""

from __future__ import annotations

import errno
import os
import select
import threading
import tty


class TransportClosed(Exception):
    """The transport is gone (closed here, or the other end vanished)."""


class PtyTransport:
    """The master side of a new pseudo-terminal; the host opens :attr:`device_path`.

    The slave is put in raw mode at once (no echo, no line editing) and kept
    open, so the master never sees EIO while no host is connected. Writes are
    non-blocking: bytes the host does not read in time are dropped and counted
    in :attr:`overrun_bytes`, like a UART whose receiver is not serviced.
    """

    def __init__(self) -> None:
        self.master_fd, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd)
        os.set_blocking(self.master_fd, False)
        self.device_path = os.ttyname(self._slave_fd)
        self.overrun_bytes = 0
        self._closed = False

    def read(self, timeout_s: float) -> bytes:
        """Bytes from the host, waiting at most ``timeout_s``; b"" when none."""
        if self._closed:
            raise TransportClosed("pty closed")
        ready, _, _ = select.select([self.master_fd], [], [], max(timeout_s, 0.0))
        if not ready:
            return b""
        try:
            return os.read(self.master_fd, 4096)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise TransportClosed(str(exc)) from None

    def write(self, data: bytes) -> None:
        """Queue ``data`` to the host; drops what does not fit."""
        if self._closed:
            raise TransportClosed("pty closed")
        try:
            n = os.write(self.master_fd, data)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            if exc.errno == errno.EIO:
                n = 0
            else:
                raise TransportClosed(str(exc)) from None
        self.overrun_bytes += len(data) - n

    def close(self) -> None:
        """Close both ends; the host sees the port vanish."""
        if not self._closed:
            self._closed = True
            os.close(self.master_fd)
            os.close(self._slave_fd)


class PipeTransport:
    """Two in-memory byte queues joining an emulated device and an in-process host port."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._to_device = bytearray()
        self._to_host = bytearray()
        self.closed = False

    # device side
    def read(self, timeout_s: float) -> bytes:
        """Device side: bytes from the host, waiting at most ``timeout_s``."""
        with self._cond:
            if not self._to_device and not self.closed:
                self._cond.wait(max(timeout_s, 0.0))
            if self.closed:
                raise TransportClosed("in-process port closed")
            data = bytes(self._to_device)
            self._to_device.clear()
            return data

    def write(self, data: bytes) -> None:
        """Device side: bytes to the host."""
        with self._cond:
            if self.closed:
                raise TransportClosed("in-process port closed")
            self._to_host += data
            self._cond.notify_all()

    # host side
    def host_write(self, data: bytes) -> None:
        """Host side: bytes to the device."""
        with self._cond:
            if self.closed:
                raise TransportClosed("in-process port closed")
            self._to_device += data
            self._cond.notify_all()

    def host_read(self, size: int, timeout_s: float | None) -> bytes:
        """Host side: up to ``size`` bytes, waiting at most ``timeout_s`` (None = forever) for the first."""
        with self._cond:
            if not self._to_host and not self.closed:
                self._cond.wait(timeout_s)
            if not self._to_host and self.closed:
                raise TransportClosed("device disconnected")
            data = bytes(self._to_host[:size])
            del self._to_host[:size]
            return data

    def host_waiting(self) -> int:
        """Host side: bytes ready to read."""
        with self._cond:
            if self.closed and not self._to_host:
                raise TransportClosed("device disconnected")
            return len(self._to_host)

    def close(self) -> None:
        """Both sides see the port vanish."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
