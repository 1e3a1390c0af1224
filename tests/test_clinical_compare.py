"""``fes compare`` and :mod:`fes_sim.compare`: conditions, the shared walk, table, JSON and plot."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fes_sim.body.orthosis import PRESETS
from fes_sim.cli import main
from fes_sim.compare import compare, parse_condition, parse_conditions
from fes_sim.config import get_preset
from fes_sim.errors import ConfigError
from fes_sim.samples import GaitEvent


@pytest.fixture(scope="module")
def severe_comparison():
    return compare(
        get_preset("walker", "drop_foot_severe"), parse_conditions("none,afo_rigid,afo_hinged,fes,fes+afo_hinged"),
        controller=get_preset("controller", "walkaide_tilt"), duration_s=20.0, seed=4,
    )


def test_conditions_parse_to_fes_and_at_most_one_orthosis(tmp_path):
    c = parse_condition("fes+afo_hinged")
    assert c.fes and c.afo is PRESETS["hinged"]
    assert parse_condition("none") == parse_condition(" none ")
    assert not parse_condition("afo_carbon").fes
    own = tmp_path / "my_afo.toml"
    own.write_text("plantarflexion_stiffness_nm_per_deg = 3.0\n")
    assert parse_condition(f"fes+{own}").afo.plantarflexion_stiffness_nm_per_deg == 3.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("none+fes", "cannot be combined"),
        ("fes+fes", "twice"),
        ("afo_rigid+afo_hinged", "at most one orthosis"),
        ("afo_titanium", "afo_rigid"),
        ("brace", "unknown"),
        ("fes,,none", "empty"),
        ("fes,fes", "more than once"),
    ],
)
def test_bad_conditions_name_the_problem(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_conditions(text)


def test_fes_without_a_controller_and_a_too_short_walk_are_errors():
    walker = get_preset("walker", "drop_foot_severe")
    with pytest.raises(ConfigError, match="controller"):
        compare(walker, parse_conditions("fes"), duration_s=10.0)
    with pytest.raises(ConfigError, match="duration_s"):
        compare(walker, parse_conditions("none"), duration_s=1.0)


def test_every_condition_walks_the_same_walk(severe_comparison):
    heel_offs = [
        [t for t, ev in r.session.plant.events if ev == GaitEvent.HEEL_OFF] for r in severe_comparison.conditions
    ]
    for other in heel_offs[1:]:
        np.testing.assert_array_equal(other, heel_offs[0])


def test_outcomes_show_what_each_treatment_does(severe_comparison):
    m = {r.condition.name: r.metrics for r in severe_comparison.conditions}
    assert m["none"]["toe_drag_strides"] >= 0.8 * m["none"]["strides"]
    for name in ("afo_rigid", "afo_hinged", "fes+afo_hinged"):
        assert m[name]["toe_drag_strides"] == 0
        assert m[name]["push_off_restriction_deg"] > 5.0
    assert m["fes"]["toe_drag_strides"] < m["none"]["toe_drag_strides"]
    # a burst that starts at heel-off pulls against push-off, far less than a brace holds it
    assert 0.2 < m["fes"]["push_off_restriction_deg"] < 0.5 * min(m[n]["push_off_restriction_deg"] for n in ("afo_rigid", "afo_hinged"))
    assert m["none"]["stim"]["stimulated_strides"] == 0 < m["fes"]["stim"]["stimulated_strides"]


def test_mean_cycle_holds_toe_height_and_ankle_over_the_stride(severe_comparison):
    for r in severe_comparison.conditions:
        c = r.cycle
        assert c.cycle_pct[0] == 0.0 and c.cycle_pct[-1] == 100.0
        assert c.strides >= 5
        assert np.all(np.isfinite(c.toe_height_mm)) and np.all(np.isfinite(c.ankle_deg))
    none = severe_comparison.conditions[0].cycle
    rigid = severe_comparison.conditions[1].cycle
    swing = none.cycle_pct > 70.0
    assert rigid.toe_height_mm[swing].min() > none.toe_height_mm[swing].min()


def test_restriction_reference_is_the_untreated_walk_even_when_not_listed():
    walker = get_preset("walker", "drop_foot_severe")
    only_brace = compare(walker, parse_conditions("afo_rigid"), duration_s=10.0, seed=4)
    with_none = compare(walker, parse_conditions("none,afo_rigid"), duration_s=10.0, seed=4)
    assert only_brace.reference_late_stance_range_deg == pytest.approx(with_none.reference_late_stance_range_deg)
    assert only_brace.conditions[0].metrics == with_none.conditions[1].metrics


def test_cli_prints_conditions_side_by_side_and_writes_the_plot_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["compare", "--walker", "drop_foot_severe", "--conditions", "none,afo_rigid,fes", "--duration-s", "10"])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if "afo_rigid" in line and "fes" in line)
    assert header.split() == ["none", "afo_rigid", "fes"]
    for label in ("MTC median mm", "toe-drag strides", "foot pitch at IC deg", "push-off restriction deg"):
        assert label in out
    assert "-0.0" not in out.split()
    assert "wrote compare_drop_foot_severe.png" in out
    assert (tmp_path / "compare_drop_foot_severe.png").stat().st_size > 10_000


def test_cli_plot_file_is_chosen_with_plot_or_left_out_with_no_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    walker = tmp_path / "my_walker.toml"
    assert main(["config", "show", "walker", "drop_foot_severe"]) == 0
    walker.write_text(capsys.readouterr().out, encoding="utf-8")
    plot = tmp_path / "cycles.png"
    args = ["compare", "--walker", str(walker), "--conditions", "none,fes", "--duration-s", "5"]
    assert main([*args, "--plot", str(plot)]) == 0
    assert plot.stat().st_size > 10_000 and f"wrote {plot}" in capsys.readouterr().out
    assert main([*args, "--no-plot"]) == 0
    assert "wrote" not in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cycles.png", "my_walker.toml"]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == "compare_my_walker.png"
    assert (tmp_path / "compare_my_walker.png").is_file()


def test_table_cells_print_zero_without_a_sign():
    from fes_sim.cli.table import format_cell

    assert [format_cell(v, 1) for v in (-0.0, -0.04, 0.04, -0.05, 2.0)] == ["0.0", "0.0", "0.0", "-0.1", "2.0"]
    assert format_cell(-0.4, 0) == "0"


def test_cli_json_is_strict_and_alone_on_stdout(capsys):
    code = main(["compare", "--conditions", "none,fes+afo_carbon", "--duration-s", "10", "--seed", "5", "--json", "--no-plot"])
    text = capsys.readouterr().out
    assert code == 0
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["walker"] == "drop_foot_severe" and data["seed"] == 5
    assert [c["condition"] for c in data["conditions"]] == ["none", "fes+afo_carbon"]
    assert data["conditions"][0]["afo"] is None
    assert data["conditions"][1]["fes"] and data["conditions"][1]["afo"]["dorsiflexion_stiffness_nm_per_deg"] == PRESETS["carbon"].dorsiflexion_stiffness_nm_per_deg


def test_cli_user_mistakes_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["compare", "--conditions", "none,afo_titanium"]) == 2
    assert main(["compare", "--plot", str(tmp_path / "missing" / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("fes: error:") for line in err)
