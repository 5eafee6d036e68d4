"""The README documents every setting and every command; the design page and
the benchmarks' README stay true to the tree."""

from __future__ import annotations

import re
from pathlib import Path

import click

from lenta.cli import main
from lenta.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


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
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_the_design_page_names_only_modules_that_exist() -> None:
    import re

    root = ROOT
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


def test_the_bench_readme_opens_with_how_to_run_each_benchmark_then_the_current_figures() -> None:
    text = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[:2] == ["How to run", "Current figures"]
    how_to_run = text.split("## How to run", 1)[1].split("## Current figures", 1)[0]
    scripts = sorted(path.name for path in (ROOT / "bench").glob("*.py") if not path.name.startswith("_"))
    assert scripts, "no benchmark scripts found"
    for script in scripts:
        assert f"python bench/{script}" in how_to_run, f"bench/README.md does not say how to run {script}"
    current = text.split("## Current figures", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^\|.*\|$", current, flags=re.MULTILINE), "the current figures are not a table"
    assert "HISTORY.md" in current and (ROOT / "bench" / "HISTORY.md").is_file()
