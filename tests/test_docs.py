"""The README documents every setting and every command."""

from __future__ import annotations

from pathlib import Path

import click

from lenta.cli import main
from lenta.config import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    names: list[str] = []
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            names += [f"lenta {name} {sub}" for sub in command.commands]
        else:
            names.append(f"lenta {name}")
    missing = [name for name in names if f"`{name}" not in README]
    assert missing == []


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in quick] == ["make serve", "make test"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci
