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


def test_the_design_page_names_only_modules_that_exist() -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    design = (root / "docs" / "design.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\blenta(?:\.[a-z_]+)+", design))
    assert len(named) > 20

    def module_file(parts: list[str]) -> Path | None:
        path = root.joinpath("src", *parts)
        for candidate in (path.with_suffix(".py"), path / "__init__.py"):
            if candidate.exists():
                return candidate
        return None

    missing = []
    for dotted in sorted(named):
        parts = dotted.split(".")
        if module_file(parts) is not None:
            continue
        # Else a module's function or class: "lenta.update.decide.build_records".
        owner = module_file(parts[:-1])
        if owner is None or not re.search(rf"^(?:def|class|async def) {parts[-1]}\b|^{parts[-1]} =", owner.read_text(), re.M):
            missing.append(dotted)
    assert missing == []
