"""The docs' examples run as written, their flags exist, their links resolve."""

import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(text: str, lang: str) -> list[str]:
    return [b.split("```")[0] for b in text.split(f"```{lang}\n")[1:]]


def test_the_readme_command_line_tour_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = next(b for b in _blocks(readme, "bash") if b.startswith("aigic encode assets/"))
    (tmp_path / "assets").symlink_to(ROOT / "assets")
    for line in tour.splitlines():
        command = shlex.split(line.split("#")[0])
        assert command[0] == "aigic"
        run = subprocess.run(
            [sys.executable, "-m", "aigic", *command[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, f"{line}: {run.stderr}"
    assert (tmp_path / "layers" / "prompt.txt").read_text(encoding="utf-8").startswith("a red fox")


def _flags(command: str) -> set[str]:
    from aigic.cli.main import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices[command]
    found = {s for a in sub._actions for s in a.option_strings}
    for a in sub._actions:  # aigic models download's flags
        if a.choices and isinstance(a.choices, dict):
            for p in a.choices.values():
                found |= {s for b in p._actions for s in b.option_strings}
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_flag_the_docs_show_exists(doc):
    """In every bash block, each ``--flag`` belongs to the aigic command of its line (or of the
    command a continuation line continues)."""
    from aigic.cli.main import COMMANDS

    for block in _blocks(doc.read_text(encoding="utf-8"), "bash"):
        command = None
        for line in block.splitlines():
            code = line.split("#")[0]
            words = code.split()
            if words[:1] == ["aigic"]:
                command = words[1] if len(words) > 1 and words[1] in COMMANDS else None
            elif words and not line.startswith(" "):
                command = None  # another program
            if command is None:
                continue
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", code):
                assert flag in _flags(command), f"{doc.name}: aigic {command} has no {flag}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc):
    for target in re.findall(r"\]\(([^)#]+)\)", doc.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which is not there"


def test_the_readme_stays_a_newcomers_page():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
