"""The README is checked against the code: every command and convention it must state."""

from __future__ import annotations

import re

import typer.core
import typer.main

from bucketmap.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def command_paths() -> list[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, typer.core.TyperGroup):
            out.extend(f"{name} {sub}" for sub in cmd.commands)
        else:
            out.append(name)
    return out


def test_every_command_is_in_the_readme() -> None:
    for path in command_paths():
        assert f"bucketmap {path}" in README, path


def test_every_run_option_is_in_the_readme() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for param in group.commands["run"].params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in README, opt


def test_start_commands_and_test_command() -> None:
    start = README.split("## Start on a fresh machine", 1)[1]
    block = re.search(r"```bash\n(.*?)```", start, re.S)
    assert block is not None
    # users install the runtime dependencies only, and run on the shipped sample
    assert block.group(1).splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e .",
        ".venv/bin/bucketmap run --prices sample --out out/demo",
    ]
    assert "Python 3.11 or later" in start.split("```", 1)[0]
    # contributors add the dev extras before the test command, as CI does
    assert ".venv/bin/pip install -e '.[dev]'" in README
    assert "pip install --quiet -e '.[dev]'" in (ROOT / ".ci" / "run").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"^\.venv/bin/python -m pytest$", ci, re.M)
    assert test_command is not None
    assert test_command.group(0) in README


def test_conventions_are_stated() -> None:
    flat = " ".join(README.split())  # line wrapping is not content
    for phrase in (
        "last trading day of each month",
        "Between rebalances weights drift",
        "first rebalance on or after its first price",
        "never back-filled",
        "in proportion to their value",
        "Annualisation uses 252 trading days",
        "Survivorship",
        "never filled with a zero return",
        "--cost-bps N",
        "`pre` (the 12 months up to the claim date's close)",
        "IRX_{t-1} / 100 / 252",
        "1/σ of each member's last 63 returns between its consecutive quotes",
        "shared **pro rata**",
        "`supported` when the whole interval lies above the threshold",
        "moving-block bootstrap of the daily excess log returns",
        "**fragile** when any removal changes the verdict",
        "p < 0.05 exactly when the 90% interval lies above the level",
        "Politis–White optimal block length",
        "**smallest excess the rule calls `supported` in 80% of bootstrap worlds**",
        "**every window of the claim's length**",
        "**Survives its controls** — the rule, in one place",
    ):
        assert phrase in flat, phrase


def test_every_test_the_reliability_section_names_exists() -> None:
    import ast

    section = README.split("## Reliability and safety", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert len(named) >= 40
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text())
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in functions, f"{path}::{name}"
