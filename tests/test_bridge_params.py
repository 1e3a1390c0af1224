"""SET_PARAM: the controller-parameter table, its wire encoding, the docs and the emulator's checks."""

from __future__ import annotations

import math

import pytest

from fes_sim.config import resolve
from fes_sim.control.config import PRESETS, ControllerConfig
from fes_sim.errors import ConfigError
from firmware_bridge.protocol import NakCode
from firmware_bridge.protocol.params import BY_KEY, PARAMS, apply_params, controller_params
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_survives_the_wire(name):
    config = PRESETS[name]
    wired = apply_params(ControllerConfig(), dict(controller_params(config)))
    assert wired == config.replace(gyro=wired.gyro, footswitch=wired.footswitch, exercise=wired.exercise)


def test_values_out_of_range_or_unknown_are_config_errors():
    pid = BY_KEY["tilt.heel_off_fraction"].param_id
    for bad in (math.nan, math.inf, 0.96, 0.0):
        with pytest.raises(ConfigError, match="tilt.heel_off_fraction"):
            apply_params(ControllerConfig(), {pid: bad})
    with pytest.raises(ConfigError, match="choice|one of"):
        apply_params(ControllerConfig(), {BY_KEY["detector"].param_id: 0.5})
    with pytest.raises(ConfigError, match="unknown parameter"):
        apply_params(ControllerConfig(), {len(PARAMS) + 1: 1.0})
    assert apply_params(ControllerConfig(), {BY_KEY["estimator.tau_s"].param_id: 2.5}).estimator.tau_s == 2.5


def test_protocol_doc_carries_the_parameter_table():
    from firmware_bridge.protocol.params import markdown_table

    doc = (PROJECT_ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert markdown_table() in doc  # ids, keys, units, ranges and defaults as the code has them


def test_emulator_refuses_bad_parameters_and_applies_good_ones():
    from firmware_bridge.emulator.config import EmulatorConfig
    from firmware_bridge.emulator.device import DeviceLogic
    from firmware_bridge.protocol import FrameDecoder, HelloRequest, Mode, SetConfig, SetMode, SetParam, encode

    out = FrameDecoder()
    answers: list = []
    dev = DeviceLogic(EmulatorConfig(), lambda b: answers.extend(p.message for p in out.feed(b)))
    seq = iter(range(1, 100))
    dev.receive(encode(HelloRequest(1), next(seq)), 0.0)
    delay = BY_KEY["stimulation.delay_ms"].param_id
    for msg, code, detail in [
        (SetParam(10.0, len(PARAMS) + 1), NakCode.BAD_VALUE, 2),
        (SetParam(5000.0, delay), NakCode.BAD_VALUE, 1),
        (SetParam(math.nan, delay), NakCode.BAD_VALUE, 1),
    ]:
        answers.clear()
        dev.receive(encode(msg, next(seq)), 0.01)
        assert (answers[-1].code, answers[-1].detail) == (code, detail), msg
    for msg in (SetConfig(30.0, 250.0, 40.0, 80, 80, 100, 0), SetParam(40.0, delay), SetMode(100, Mode.DEVICE_LOOP)):
        answers.clear()
        dev.receive(encode(msg, next(seq)), 0.02)
        assert type(answers[-1]).__name__ == "Ack", answers
    assert dev.pipeline.config.stimulation.delay_ms == 40.0
    assert dev.pipeline.config.tilt == resolve("controller", "walkaide_tilt").tilt
