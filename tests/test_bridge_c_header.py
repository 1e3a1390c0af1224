"""The generated C header compiles and its layouts match the Python protocol definition."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest

from firmware_bridge.protocol import MESSAGES
from tests.conftest import PROJECT_ROOT

GENERATED = PROJECT_ROOT / "firmware" / "generated"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_protocol_c", PROJECT_ROOT / "tools" / "gen_protocol_c.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_outputs_are_up_to_date():
    gen = _generator()
    for name, text in gen.outputs().items():
        assert (GENERATED / name).read_text(encoding="utf-8") == text, f"regenerate {name}: python tools/gen_protocol_c.py"


def test_header_layouts_match_python(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "fes_protocol.h"', "int main(void) {"]
    for d in MESSAGES.values():
        lines.append(f'printf("{d.name} size %u %u\\n", (unsigned)FES_{d.name}_SIZE, (unsigned)FES_MSG_{d.name});')
        for f in d.fields:
            t = f"fes_{d.name.lower()}_t"
            lines.append(
                f'printf("{d.name} {f.name} %u %u\\n", (unsigned)offsetof({t}, {f.name}), (unsigned)sizeof((({t}*)0)->{f.name}));'
            )
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(GENERATED), str(src), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    expected = []
    for d in MESSAGES.values():
        expected.append(f"{d.name} size {d.size} {d.msg_id}")
        expected += [f"{d.name} {f.name} {f.offset} {f.size}" for f in d.fields]
    assert out == expected


def test_generator_check_mode_reports_stale_files(tmp_path, capsys):
    gen = _generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    assert gen.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "fes_protocol.h").write_text("/* edited */")
    assert gen.main(["--out", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_protocol_doc_lists_every_message_with_its_layout():
    doc = (PROJECT_ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    for d in MESSAGES.values():
        assert f"### 0x{d.msg_id:02X} {d.name} (" in doc and f"{d.size} bytes" in doc, d.name
        for f in d.fields:
            assert f"| {f.offset} | `{f.name}` | {f.wire} |" in doc, f"{d.name}.{f.name}"
