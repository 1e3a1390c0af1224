"""A hardware-in-the-loop session as a viewer source: the device streams, the host pipeline answers.

The link is prepared as ``fes hil host`` prepares it
(:func:`firmware_bridge.hil.setup.prepare_device`) and put in HOST_LOOP mode
(docs/protocol.md §6): the device streams
SENSOR_SAMPLE at its rate; each sample goes through the host's
:class:`~fes_sim.device.DevicePipeline` and the envelope goes back with
SET_ENVELOPE. The device's own reports (STIM_STATE, FAULT) fill the status
line with the link statistics. The device sets the pace, so the source thread
blocks on the link (with a short time-out), never the GUI.

This module imports :mod:`firmware_bridge` lazily: ``fes_sim`` itself never
depends on the bridge package, only this optional viewer backend does.
"""

from __future__ import annotations

import logging
from typing import Any

from fes_sim.config.schema import Config
from fes_sim.samples import ShankSample
from fes_sim.viewer.buffer import NAN, ViewerBuffer, make_row
from fes_sim.viewer.retune import RetunablePipeline
from fes_sim.viewer.source import Source
from fes_sim.viewer.strides import HeelStrikeStrides

log = logging.getLogger(__name__)

#: longest wait for one device frame before the loop checks for stop and pause
RECV_TIMEOUT_S = 0.05
#: device watchdog: output stops when the host is silent this long
WATCHDOG_MS = 250


class HilSource(Source):
    """Samples from a device on ``port`` (any port or URL the bridge accepts, ``fesemu://`` included).

    Parameters
    ----------
    buffer
        Destination of samples and events.
    port
        Port name or URL for :func:`firmware_bridge.link.open_link`.
    controller, stimulator
        The host-side device logic and the limits sent to the device.
    """

    paced = False
    can_step = False
    label = "hil"

    def __init__(self, buffer: ViewerBuffer, port: str, controller: Config, stimulator: Config, **kwargs: Any) -> None:
        super().__init__(buffer, sample_rate_hz=200.0, **kwargs)
        self.port = port
        self.controller = controller
        self.stimulator = stimulator
        self.label = f"hil {port}"
        self.status.source = self.label
        self.link: Any = None
        self.device: RetunablePipeline | None = None
        self._wire_pending: Config | None = None  # checked, waiting to be sent between bursts
        self._sample = ShankSample(t_s=NAN)
        self._last_index: int | None = None
        self.lost_samples = 0
        self.stale_samples = 0  # duplicated or reordered samples, dropped
        self._strides = HeelStrikeStrides()

    def connect(self) -> None:
        """Open and prepare the device now (before the window shows), so a bad port fails at once."""
        if self.link is None:
            self._connect()

    def _open(self) -> None:
        from firmware_bridge.protocol import Mode

        self.connect()
        self.link.set_mode(Mode.HOST_LOOP, self.link.device.sample_rate_hz)

    def _connect(self) -> None:
        from firmware_bridge.hil.setup import prepare_device, wire_controller
        from firmware_bridge.link import open_link
        from firmware_bridge.samples import Unwrapper

        self.link = link = open_link(self.port)
        rate = link.device.sample_rate_hz
        self.sample_rate_hz = float(rate)
        controller = wire_controller(self.controller)  # type: ignore[arg-type]
        prepare_device(link, controller, self.stimulator, WATCHDOG_MS)  # type: ignore[arg-type]
        self.device = RetunablePipeline(controller, self.stimulator, self.sample_rate_hz)
        self._unwrap = Unwrapper()

    def _close(self) -> None:
        if self.link is not None:
            self.link.close()

    def _retune(self, kind: str, config: Config) -> None:
        if kind != "controller" or self.device is None:
            super()._retune(kind, config)
            return
        from firmware_bridge.hil.setup import wire_controller

        controller = wire_controller(config)  # type: ignore[arg-type]
        self.device.check(controller)  # an unsafe config is refused here, once, never in the sample loop
        self._wire_pending = controller

    def _configure_if_idle(self) -> None:
        """Send a submitted controller's output settings between bursts, then retune the host pipeline.

        The emulator accepts SET_CONFIG only in COMMAND mode, so the link leaves
        HOST_LOOP for the exchange (the device restarts its sample stream).
        """
        from firmware_bridge.errors import BridgeError
        from firmware_bridge.protocol import Mode

        device, controller = self.device, self._wire_pending
        assert device is not None
        if controller is None or not device.idle:
            return
        self._wire_pending = None
        st = controller.stimulation  # type: ignore[attr-defined]
        rate = int(round(self.sample_rate_hz))
        try:
            self.link.set_mode(Mode.COMMAND, rate)
            try:
                self.link.configure(
                    current_ma=st.current_ma, pulse_width_us=st.pulse_width_us, frequency_hz=st.frequency_hz,
                    ramp_up_ms=round(st.ramp_up_ms), ramp_down_ms=round(st.ramp_down_ms), extension_ms=round(st.extension_ms),
                )
            finally:
                self.link.set_mode(Mode.HOST_LOOP, rate)
                self._last_index = None
        except BridgeError as exc:
            log.warning("device refused the new settings, keeping the old ones: %s", exc)
            self.status.notice = f"controller settings refused by the device: {exc}"
            return
        device.request(controller)  # checked when submitted; the output is idle, so it applies now

    def _advance(self) -> bool:
        from firmware_bridge.protocol import Fault, FaultReport, SensorSample, StimState, StimStateReport
        from firmware_bridge.samples import fill_shank_sample

        got = self.link.recv(RECV_TIMEOUT_S)
        if got is not None:
            msg = got.message
            if isinstance(msg, SensorSample):
                self._on_sample(msg, fill_shank_sample)
            elif isinstance(msg, StimStateReport):
                self.status.stim_state = f"device {StimState(msg.state).label}"
            elif isinstance(msg, FaultReport):
                self.status.faults = "|".join(f.name.lower() for f in Fault if f & msg.flags)
        self._update_link_status()
        return True

    def _on_sample(self, msg: Any, fill: Any) -> None:
        assert self.device is not None
        if self._last_index is not None:
            step = (msg.sample_index - self._last_index) & 0xFFFFFFFF
            if step == 0 or step >= 0x80000000:  # a duplicate, or older than one already shown: dropped
                self.stale_samples += 1
                return
            self.lost_samples += step - 1
        self._last_index = msg.sample_index
        s = fill(msg, self._unwrap(msg.t_us), self._sample)
        self._configure_if_idle()
        out = self.device.pipeline.update(s)
        self.link.set_envelope(out.envelope, msg.sample_index)
        row = make_row(
            {
                "t_s": s.t_s,
                "true_tilt_deg": s.tilt_deg,
                "tilt_est_deg": out.tilt_est_deg,
                "gyr_z_dps": s.gyr_z_dps,
                "envelope": out.envelope,
                "current_ma": out.current_ma,
                "pulses": out.pulses,
                "threshold_deg": getattr(self.device.pipeline.detector, "threshold_deg", NAN),
            }
        )
        self.emit(row, out.event, s.t_s)
        strides = self._strides.event(s.t_s, out.event)  # no ground truth here: strides from detected events
        if strides:
            self.emit_truth([], strides)

    def _update_link_status(self) -> None:
        st = self.link.stats
        self.status.link = (
            f"rx {st.rx_frames} tx {st.tx_frames} lost samples {self.lost_samples} stale {self.stale_samples} "
            f"naks {st.naks} retries {st.retries} frame errors {st.decoder.errors}"
        )
