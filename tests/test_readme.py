"""The README's examples show what quadtui prints, and its install commands are the ones quadtui names."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from quadtui.cli import main
from quadtui.cli.serve import INSTALL_HINT

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    return README[start : README.index("\n## ", start + 1)]


def test_sweeps_example_shows_what_the_sweep_prints(capsys):
    block = section("Sweeps").split("```text\n")[1].split("```")[0].splitlines()
    command, *shown = block
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "quadtui" and main(argv[1:]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:-1] == shown[:-1]
    timing = re.compile(r"\d+ runs in \d+\.\d\d s")  # the time is the machine's
    assert timing.fullmatch(printed[-1]) and timing.fullmatch(shown[-1])
    assert printed[-1].split(" in ")[0] == shown[-1].split(" in ")[0]


def test_sweeps_row_is_the_single_run_the_readme_names(capsys):
    claim = re.search(r"row `(\S+)` above is what\s+`quadtui (.+?)` prints \(`final loss (\S+)`\)", section("Sweeps"))
    assert claim is not None
    value, flags, final = claim.groups()
    assert main(shlex.split(flags)) == 0
    assert f"final loss {final}" in " ".join(capsys.readouterr().out.split())
    table = section("Sweeps").split("```text\n")[1]
    row = next(line.split() for line in table.splitlines() if line.split()[:1] == [value])
    assert row[1:3] == ["done", final]


def test_serve_hint_installs_the_web_extra_as_the_readme_does():
    install = re.search(r"pip install -e '\.\[web\]'", INSTALL_HINT)
    assert install is not None and install.group(0) in README
