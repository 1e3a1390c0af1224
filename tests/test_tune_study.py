"""Study files: a bad study is refused before any work, with file, field and value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from fes_sim.cli import main
from fes_sim.errors import ConfigError, SafetyLimitError
from fes_sim.tuning import load_study
from fes_sim.tuning.space import SearchSpace
from tune_helpers import write_study

ROOT = Path(__file__).resolve().parents[1]


def _refuse(path: Path, *fragments: str, error: type = ConfigError) -> str:
    with pytest.raises(error) as info:
        load_study(path)
    text = str(info.value)
    assert text.startswith(str(path)), text
    for f in fragments:
        assert f in text, text
    return text


def test_example_studies_load() -> None:
    studies = sorted((ROOT / "configs" / "studies").glob("*.toml"))
    assert studies
    for path in studies:
        study = load_study(path)
        assert study.parameters


def test_unknown_parameter_path_is_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulation.ramp_up_sec"\nlo = 0.0\nhi = 1.0\n')
    _refuse(p, "parameters[2].path", "stimulation.ramp_up_sec", "ramp_up_ms")


def test_unknown_table_and_non_numeric_parameter_are_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulus.current_ma"\nlo = 0.0\nhi = 1.0\n')
    _refuse(p, "stimulus.current_ma", "not a controller parameter")
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulation"\nlo = 0.0\nhi = 1.0\n')
    _refuse(p, "parameters[2].path", "neither a numeric nor a categorical", "StimulationConfig")


@pytest.mark.parametrize(("entry", "method", "fragments"), [
    ('path = "stimulation.timing"\nlo = 0.0\nhi = 1.0', "grid", ["parameters[2].values", "stimulation.timing", "'fixed', 'percent'"]),
    ('path = "stimulation.timing"\nvalues = ["fixed", "weekly"]', "grid", ["parameters[2].values[1]", "'weekly'", "'fixed', 'percent'"]),
    ('path = "mode"\nvalues = ["gait", "exercise"]', "random", ["parameters[2].values[1]", "'exercise'", "allowed: 'gait', 'off'"]),
    ('path = "stimulation.delay_ms"\nvalues = ["slow", "fast"]', "grid", ["parameters[2].values", "delay_ms is a number"]),
    ('path = "detector"\nvalues = ["tilt", 2.0]', "grid", ["parameters[2].values", "mixes numbers and names"]),
    ('path = "detector"\nvalues = ["tilt", "gyro"]', "differential_evolution",
     ["parameters[2].values", "'tilt', 'gyro'", "continuous optimiser", "'grid', 'random' or 'lhs'"]),
])
def test_bad_categorical_parameters_are_refused(tmp_path: Path, entry: str, method: str, fragments: list[str]) -> None:
    _refuse(write_study(tmp_path, f"\n[[parameters]]\n{entry}\n", method=method), *fragments)


def test_named_settings_are_sampled_evenly_and_applied(tmp_path: Path) -> None:
    extra = '\n[[parameters]]\npath = "stimulation.timing"\nvalues = ["fixed", "percent"]\n'
    space = SearchSpace.from_study(load_study(write_study(tmp_path, extra, method="lhs")))
    assert [space.decode(r)[2] for r in space.grid(2)] == ["fixed", "percent"] * 4
    for sets in (space.random(400, 3), space.lhs(400, 3)):
        names = [space.decode(r)[2] for r in sets]
        assert 150 < names.count("percent") < 250 and set(names) == {"fixed", "percent"}
    assert [names.count("fixed") for names in [[space.decode(r)[2] for r in space.lhs(10, 1)]]] == [5]  # stratified
    assert space.apply([20.0, 10.0, "percent"]).stimulation.timing == "percent"


def test_empty_range_is_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[parameters]]\npath = "tilt.heel_off_fraction"\nlo = 0.6\nhi = 0.6\n')
    _refuse(p, "parameters", "tilt.heel_off_fraction", "empty range", "0.6")


def test_value_outside_field_range_is_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[parameters]]\npath = "tilt.heel_off_fraction"\nlo = 0.5\nhi = 1.5\n')
    _refuse(p, "tilt.heel_off_fraction", "hi = 1.5", "out of range")


def test_current_beyond_stimulator_limit_is_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path)
    text = p.read_text().replace("hi = 40.0", "hi = 150.0")
    p.write_text(text)
    _refuse(p, "stimulation.current_ma = 150.0", "max_current_ma 100", error=SafetyLimitError)


def test_charge_beyond_limit_only_at_a_corner_is_refused(tmp_path: Path) -> None:
    # with a 20 uC limit, 70 mA (at the base 250 us) and 350 us (at the base 30 mA) are each
    # allowed alone; together they deliver 24.5 uC per phase
    stim = tmp_path / "small.toml"
    stim.write_text("max_charge_per_phase_uc = 20.0\n")
    extra = '\n[[parameters]]\npath = "stimulation.pulse_width_us"\nlo = 100.0\nhi = 350.0\n'
    p = write_study(tmp_path, extra)
    p.write_text(p.read_text().replace("hi = 40.0", "hi = 70.0").replace('stimulator = "default"', f'stimulator = "{stim}"'))
    _refuse(p, "stimulation.current_ma = 70.0", "stimulation.pulse_width_us = 350.0", "charge per phase", error=SafetyLimitError)


def test_stimulator_parameters_are_checked_by_path_and_range(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.max_amps"\nlo = 50.0\nhi = 100.0\n')
    _refuse(p, "parameters[2].path", "not a stimulator parameter", "max_current_ma")
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.asymmetric_recovery_ratio"\nlo = 0.5\nhi = 8.0\n')
    _refuse(p, "parameters[2] (stimulator.asymmetric_recovery_ratio) lo = 0.5", "out of range")
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.max_current_ma"\nlo = 0.0\nhi = 100.0\n', method="differential_evolution")
    _refuse(p, "parameters[2] (stimulator.max_current_ma) lo = 0.0", "out of range")


def test_each_corner_is_checked_against_its_own_stimulator(tmp_path: Path) -> None:
    # 40 mA is safe with the default 100 mA limit, not with a swept limit of 30 mA
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.max_current_ma"\nlo = 30.0\nhi = 100.0\n')
    _refuse(p, "stimulation.current_ma = 40.0", "stimulator.max_current_ma = 30.0", "max_current_ma 30", error=SafetyLimitError)
    p = write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.electrode_area_cm2"\nlo = 1.0\nhi = 20.0\n', method="lhs")
    _refuse(p, "stimulator.electrode_area_cm2 = 1.0", "rms current density", error=SafetyLimitError)
    space = SearchSpace.from_study(load_study(write_study(tmp_path, '\n[[parameters]]\npath = "stimulator.electrode_area_cm2"\nlo = 10.0\nhi = 20.0\n')))
    assert space.stimulator_for([30.0, 50.0, 12.5]).electrode_area_cm2 == 12.5
    assert space.apply([30.0, 50.0, 12.5]).stimulation.current_ma == 30.0


def test_unknown_metric_key_and_values_with_lhs_are_refused(tmp_path: Path) -> None:
    p = write_study(tmp_path, '\n[[constraints]]\nmetric = "mtc_p1_mm"\nmin = 0.0\n')
    _refuse(p, "mtc_p1_mm", "unknown metric")
    p = write_study(tmp_path, 'colour = "red"\n')
    _refuse(p, "colour", "unknown key")
    p = write_study(tmp_path, '\n[[parameters]]\npath = "tilt.heel_off_fraction"\nvalues = [0.4, 0.5]\n', method="lhs")
    _refuse(p, "parameters[2].values", "grid")


def test_unknown_walker_and_scenario_are_refused_with_the_file_and_the_known_presets(tmp_path: Path) -> None:
    p = write_study(tmp_path)
    p.write_text(p.read_text().replace('walker = "drop_foot_severe"', 'walker = "nobody"'))
    _refuse(p, "walkers.walker", "'nobody'", "drop_foot_mild")
    p = write_study(tmp_path, scenarios='["walk", "marathon"]')
    _refuse(p, "scenarios[1]", "'marathon'", "false_triggers")
    p = write_study(tmp_path, scenarios=f'["{tmp_path / "gone.toml"}"]')
    _refuse(p, "scenarios[0]", "gone.toml", "no such file")


def test_cli_refuses_a_bad_study_before_any_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write_study(tmp_path)
    p.write_text(p.read_text().replace("hi = 40.0", "hi = 150.0"))
    out = tmp_path / "out"
    assert main(["tune", str(p), "--out", str(out), "--workers", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "max_current_ma" in err[0]
    assert not out.exists()


def test_space_samplers_stay_in_bounds(tmp_path: Path) -> None:
    space = SearchSpace.from_study(load_study(write_study(tmp_path)))
    for sets in (space.random(50, 1), space.lhs(50, 1)):
        assert sets.shape == (50, 2)
        assert (sets[:, 0] >= 15).all() and (sets[:, 0] <= 40).all()
        assert (sets[:, 1] >= 0).all() and (sets[:, 1] <= 150).all()
    grid = space.grid(3)
    assert grid.shape == (9, 2) and {tuple(r) for r in grid} >= {(15.0, 0.0), (40.0, 150.0)}
    # Latin hypercube: each of n strata of every parameter holds exactly one point
    lhs = space.lhs(10, 2)
    strata = ((lhs[:, 0] - 15) / 25 * 10).astype(int)
    assert sorted(strata) == list(range(10))
    cfg = space.apply([22.0, 75.0])
    assert cfg.stimulation.current_ma == 22.0 and cfg.stimulation.ramp_up_ms == 75.0
