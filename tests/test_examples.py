"""The course stays true: every example runs, writes its figure, and prints the answers its lesson states.

Each ``examples/lessonN_*.py`` runs in a subprocess (as a student runs it) with a
temporary output directory. Its ``answer KEY = VALUE`` lines must match the
lesson page ``docs/course/0N-*.md``: every key the page cites as
```` `KEY`, expected LO to HI ```` is printed with a value in that range, and
every printed key is cited. The figure it writes must have the pixel size of
the copy committed in ``examples/figures/`` that the page shows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("lesson*_*.py"))
ANSWER = re.compile(r"^answer (\w+) = (\S+)", re.MULTILINE)
CITED = re.compile(r"`(\w+)`,\s+expected\s+(-?[\d.]+)\s+to\s+(-?[\d.]+)")


def lesson_page(example: Path) -> Path:
    number = int(re.match(r"lesson(\d+)_", example.name).group(1))
    pages = list((ROOT / "docs" / "course").glob(f"{number:02d}-*.md"))
    assert len(pages) == 1, f"no single lesson page for {example.name}: {pages}"
    return pages[0]


def test_every_lesson_page_has_an_example_and_the_index_links_it() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    pages = sorted((ROOT / "docs" / "course").glob("*.md"))
    assert pages and len(pages) == len(EXAMPLES)
    for page in pages:
        assert f"course/{page.name}" in index, f"docs/README.md does not link {page.name}"
    for example in EXAMPLES:
        assert example.name in lesson_page(example).read_text(encoding="utf-8")


def _numbered_items(page: str, section: str) -> int:
    match = re.search(rf"^## {section}\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    assert match, f"no '## {section}' section"
    return len(re.findall(r"^\d+\. ", match.group(1), re.M))


@pytest.mark.parametrize("page", sorted((ROOT / "docs" / "course").glob("*.md")), ids=lambda p: p.stem)
def test_every_lesson_has_two_or_three_exercises_each_answered(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    exercises = _numbered_items(text, "Exercises")
    assert 2 <= exercises <= 3, f"{page.name} has {exercises} exercises"
    assert _numbered_items(text, "Answers") == exercises, f"{page.name}: one answer per exercise"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_its_lesson_states_its_answers(example: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(example), str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = {key: float(value) for key, value in ANSWER.findall(proc.stdout)}
    assert printed, "the example printed no answers"
    page = lesson_page(example)
    cited = {key: (float(lo), float(hi)) for key, lo, hi in CITED.findall(page.read_text(encoding="utf-8"))}
    assert set(printed) == set(cited), (
        f"{page.name} and {example.name} disagree: not cited {sorted(set(printed) - set(cited))}, "
        f"not printed {sorted(set(cited) - set(printed))}"
    )
    wrong = {k: (printed[k], cited[k]) for k in printed if not cited[k][0] <= printed[k] <= cited[k][1]}
    assert not wrong, f"{page.name} states ranges the example no longer produces (value, range): {wrong}"

    figures = sorted(tmp_path.glob("*.png"))
    assert figures, "the example wrote no figure"
    for fig in figures:
        committed = ROOT / "examples" / "figures" / fig.name
        assert committed.is_file(), f"{fig.name} is not committed in examples/figures/"
        assert fig.name in page.read_text(encoding="utf-8"), f"{page.name} does not show {fig.name}"
        assert matplotlib.image.imread(fig).shape == matplotlib.image.imread(committed).shape


CITATION = re.compile(r"\b([A-Z][A-Za-z-]+)(?: (?:&|and) [A-Z][A-Za-z-]+| et al\.)?,? \(?((?:19|20)\d{2})\b")


def test_lessons_cite_the_bibliography_in_full() -> None:
    """Every author-year citation of the course has a full entry in docs/references.md, and every link resolves."""
    bibliography = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
    entries = bibliography.split('<a id="')[1:]
    anchors = {entry.split('"', 1)[0] for entry in entries}
    assert "references.md" in (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    for page in [ROOT / "docs" / "README.md", *sorted((ROOT / "docs" / "course").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        assert "REFERENCE" not in text, f"{page.name} cites the notes outside the repository"
        for anchor in re.findall(r"references\.md#([\w-]+)", text):
            assert anchor in anchors, f"{page.name} links a missing entry #{anchor}"
        for surname, year in CITATION.findall(text):
            assert any(surname in e and f"({year})" in e for e in entries), f"{page.name}: no entry for {surname} {year}"


def test_readme_picture_is_aligned_and_the_student_starts_with_a_lesson() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    picture = readme.split("## Architecture", 1)[1].split("```")[1].splitlines()
    borders = [[i for i, c in enumerate(line) if c in "┌┐└┘│"] for line in picture if any(c in line for c in "┌└│")]
    assert borders and all(b == borders[0] for b in borders), borders
    student = next(line for line in readme.splitlines() if line.startswith("| a student"))
    first = re.search(r"`python (examples/\S+\.py)`", student)
    assert first and (ROOT / first.group(1)).is_file(), student
    assert ". .venv/bin/activate" in readme and '".[test]"' in readme
