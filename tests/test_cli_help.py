"""Every `fes` subcommand explains itself and refuses user mistakes in one line, exit 2, no traceback."""

from __future__ import annotations

import argparse
import re
import sys

import pytest

from fes_sim.cli import build_parser, main
from fes_sim.cli.options import Number

#: option-name suffix → the unit its help must name
UNIT_SUFFIXES = {"_s": "s", "_ms": "ms", "_hz": "Hz", "_mps": "m/s", "_deg": "deg"}


def all_parsers(parser: argparse.ArgumentParser, prog: str = "fes"):
    """(prog, parser) for the parser and every nested subparser."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"'{prog} {name}' has no one-line help in '{prog} --help'"
                yield from all_parsers(sub, f"{prog} {name}")


PARSERS = list(all_parsers(build_parser()))


def test_walk_reaches_nested_subcommands():
    progs = {prog for prog, _ in PARSERS}
    assert {"fes run", "fes config validate", "fes config show", "fes hil host", "fes hil latency", "fes view"} <= progs


@pytest.mark.parametrize(("prog", "parser"), PARSERS, ids=[prog for prog, _ in PARSERS])
def test_every_command_has_a_description(prog, parser):
    assert (parser.description or "").strip(), f"'{prog} --help' shows only options"


@pytest.mark.parametrize("mode", ["host", "device", "latency"])
def test_hil_modes_say_what_they_do_report_and_exit_with(mode, capsys):
    assert main(["hil", mode, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Prints" in text and "Checks:" in text and "PASS or FAIL" in text
    assert "Exit status: 0 pass, 1 fail, 2 usage or configuration error, 3 device or link" in text


@pytest.mark.parametrize(("prog", "parser"), PARSERS, ids=[prog for prog, _ in PARSERS])
def test_every_option_has_help_with_its_default_and_unit(prog, parser):
    parser.format_help()  # a bad %-placeholder in any help raises here
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = "/".join(action.option_strings) or action.metavar or action.dest
        text = formatter._expand_help(action) if action.help else ""
        where = f"{prog} {name}: {text!r}"
        assert text.strip(), f"{prog} {name} has no help"
        assert "(default: None)" not in text, where
        assert len(re.findall(r"\bdefault:", text)) <= 1, f"doubled default: {where}"
        takes_value = action.option_strings and action.nargs != 0
        if takes_value and not action.required:
            assert "default:" in text, f"no default stated: {where}"
        for suffix, unit in UNIT_SUFFIXES.items():
            if action.dest.endswith(suffix):
                assert re.search(rf"(?<![\w/]){re.escape(unit)}(?![\w/])", text), f"unit {unit} not stated: {where}"
        if isinstance(action.type, Number):
            assert action.type.range in text, f"range not stated: {where}"


def cli(args: list[str], capsys) -> tuple[int, str]:
    """Run ``fes ARGS`` in this process: exit code and stderr (an unexpected exception fails the test)."""
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture
def bad_files(tmp_path):
    latin = tmp_path / "walkers" / "latin1.toml"
    latin.parent.mkdir()
    latin.write_bytes("name = 'M\xfcller'\n".encode("latin-1"))
    empty = tmp_path / "empty.toml"
    empty.write_text("# only a comment\n")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    return {"LATIN": str(latin), "EMPTY": str(empty), "DIR": str(folder), "NODIR": str(tmp_path / "no" / "x.png")}


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "--seed", "-1"], ["argument --seed", "-1", "0 <= value <= 4294967295"]),
        (["run", "--duration-s", "abc"], ["argument --duration-s", "'abc' is not a number"]),
        (["run", "--sample-rate-hz", "nan"], ["--sample-rate-hz", "100 <= value <= 1000 Hz"]),
        (["run", "--walker", "LATIN"], ["latin1.toml", "not UTF-8 text (byte 0xfc"]),
        (["run", "--walker", "EMPTY"], ["empty.toml", "no settings"]),
        (["run", "--out", "NODIR", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["config", "validate", "LATIN"], ["latin1.toml", "not UTF-8"]),
        (["config", "show", "walker", "LATIN"], ["latin1.toml", "not UTF-8"]),
        (["config", "show", "shoe", "x"], ["argument KIND", "'shoe'"]),
        (["config"], ["required", "ACTION"]),
        (["compare", "--seed", "-1"], ["argument --seed"]),
        (["compare", "--plot", "DIR"], ["--plot", "is a directory"]),
        (["replay", "missing.csv", "--plot", "NODIR"], ["--plot", "does not exist"]),
        (["replay", "missing.csv", "--tolerance-ms", "0"], ["--tolerance-ms", "1 <= value <= 2000 ms"]),
        (["calibrate", "missing.csv", "--out", "DIR"], ["--out", "must end in .toml"]),
        (["tune", "LATIN"], ["latin1.toml", "not UTF-8"]),
        (["tune", "EMPTY", "--workers", "-3"], ["--workers", "value >= 0"]),
        (["view", "--seed", "-1"], ["argument --seed"]),
        (["view", "--quit-after-s", "nan"], ["--quit-after-s", "0 < value"]),
        (["view", "--screenshot", "NODIR"], ["--screenshot", "does not exist"]),
        (["emulate", "--pty", "--duration-s", "-1"], ["--duration-s", "value >= 0 s"]),
        (["hil", "latency", "--port", "fesemu://", "--pings", "0"], ["--pings", "value >= 1"]),
        (["hil", "host", "--port", "fesemu://", "--watchdog-ms", "5"], ["--watchdog-ms", "10 <= value <= 1000 ms"]),
        (["hil", "host", "--port", "fesemu://", "--junit", "NODIR"], ["--junit", "does not exist"]),
        (["hil", "device", "--port", "fesemu://", "--seed", "-1"], ["argument --seed"]),
        (["hil"], ["required", "MODE"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0][0].islower() else None,
)
def test_user_mistakes_are_one_line_exit_2(args, fragments, bad_files, capsys):
    code, err = cli([bad_files.get(a, a) for a in args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("fes: error: ")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland display check")
def test_view_without_a_display_says_so_in_one_line(monkeypatch):
    from fes_sim.cli.view_cmd import _check_display
    from fes_sim.errors import FesError

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(FesError, match="needs a display.*QT_QPA_PLATFORM=offscreen"):
        _check_display()
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    _check_display()
