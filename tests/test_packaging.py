"""Packaging: the version, the extras, the license and changelog, the systemd
units, the container image and the README's word on them.

The units go through ``systemd-analyze verify`` where systemd-analyze is
installed, and the image is built and run where ``docker info`` answers;
both are skipped with the reason otherwise. Everything else is checked on
any machine.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from conftest import POSTGRES_URL
from conftest import fresh_postgres_schema
from httpserver import free_port
from test_serve import lenta_serve

import lenta
from lenta.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNITS = ROOT / "packaging" / "systemd"
HEALTHCHECK = ROOT / "packaging" / "docker" / "healthcheck.py"
LENTA = Path(sys.executable).parent / "lenta"  # the installed console script


# --- the version, the extras ------------------------------------------------


def test_the_version_is_written_once_and_lenta_version_shows_the_packages() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/lenta/__init__.py"
    assert importlib.metadata.version("lenta") == lenta.__version__
    shown = subprocess.run([str(LENTA), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.strip() == f"lenta, version {lenta.__version__}"


def test_the_postgresql_driver_is_an_extra_the_tests_install() -> None:
    project = PYPROJECT["project"]
    assert not [dependency for dependency in project["dependencies"] if "psycopg" in dependency]
    assert [dependency.split(">")[0] for dependency in project["optional-dependencies"]["postgres"]] == ["psycopg[binary]"]
    assert "lenta[postgres]" in project["optional-dependencies"]["test"]


# The psycopg import made to fail in a real lenta process, as where the extra is not installed.
WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; sys.argv = ['lenta', *sys.argv[1:]]; from lenta.__main__ import run; run()"
)


def lenta_without_psycopg(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LENTA_")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args], capture_output=True, text=True, timeout=120, env=environ
    )


def test_postgresql_without_its_driver_says_which_extra_to_install() -> None:
    result = lenta_without_psycopg("--db", "postgresql://lenta@127.0.0.1:9/lenta", "list")
    assert result.returncode == 1
    assert "Error: PostgreSQL needs the driver: pip install 'lenta[postgres]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sqlite_needs_no_postgresql_driver(tmp_path: Path) -> None:
    database = tmp_path / "lenta.sqlite"
    assert lenta_without_psycopg("--db", str(database), "list").returncode == 0
    listed = lenta_without_psycopg("--db", str(database), "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_make_serve_installs_lenta_without_extras() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\n$(RUNTIME):", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == ["$(PY) -m pip install --quiet -e ."]
    serve = makefile.split("\nserve:", 1)[1].split("\n", 1)[0]
    assert serve.split() == ["$(RUNTIME)"]


# --- license, changelog, README ---------------------------------------------


def test_the_license_is_mit_as_the_package_says() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the lenta authors\n")
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}


def test_the_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert versions[0] == "Unreleased"
    kinds = set(re.findall(r"^### (.+)$", text, re.MULTILINE))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    links = set(re.findall(r"^\[([^\]]+)\]: https://", text, re.MULTILINE))
    assert links == set(versions)


def test_the_readme_names_the_python_lenta_requires() -> None:
    floor = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    platforms = README.split("## Supported platforms", 1)[1].split("\n## ", 1)[0]
    assert f"CPython {floor} or newer" in platforms
    assert "Windows" in platforms  # says it is not supported, and why


# --- systemd units ------------------------------------------------------------


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and keys (a key given twice keeps both values),
    read as systemd does: comments, continued lines, ``Key=value``."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = logical + raw.strip()
        if line.endswith("\\"):
            logical = line[:-1] + " "
            continue
        logical = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            assert line[1:-1] not in sections, f"{path.name}: [{line[1:-1]}] twice"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), f"{path.name}: not a Key=value line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_paths() -> list[Path]:
    return sorted(UNITS.glob("*.service"))


def test_there_is_a_unit_for_serve_and_one_for_worker() -> None:
    assert [path.name for path in unit_paths()] == ["lenta-serve.service", "lenta-worker.service"]


HARDENING = {
    "DynamicUser": "yes",
    "User": "lenta",
    "StateDirectory": "lenta",
    "StateDirectoryMode": "0700",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "MemoryDenyWriteExecute": "yes",
    "Restart": "on-failure",
}


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_units_are_hardened_and_use_the_state_directory(command: str) -> None:
    unit = read_unit(UNITS / f"lenta-{command}.service")
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["ExecStart"] == [f"/opt/lenta/bin/lenta {command}"]
    assert {key: service.get(key) for key in HARDENING} == {key: [value] for key, value in HARDENING.items()}
    assert service["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert service["SystemCallFilter"][0] == "@system-service"
    environment = dict(item.partition("=")[::2] for item in service["Environment"])
    # The SQLite default lives in the state directory, the one place a DynamicUser may write.
    assert environment["LENTA_DB"] == "%S/lenta/lenta.sqlite"
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_worker_needs_its_environment_file_and_serve_may_have_one() -> None:
    # The worker is for PostgreSQL scale-out: it must be told the database.
    assert read_unit(UNITS / "lenta-worker.service")["Service"]["EnvironmentFile"] == ["/etc/lenta/lenta.env"]
    assert read_unit(UNITS / "lenta-serve.service")["Service"]["EnvironmentFile"] == ["-/etc/lenta/lenta.env"]


def test_units_name_only_settings_lenta_has() -> None:
    known = {setting.env for setting in SETTINGS}
    for path in unit_paths():
        named = set(re.findall(r"\bLENTA_[A-Z_]+", path.read_text(encoding="utf-8")))
        assert named <= known, f"{path.name}: {sorted(named - known)}"


def installed_units(tmp_path: Path) -> list[Path]:
    """The units with ExecStart pointing at this lenta (verify wants the program to exist)."""
    copies = []
    for path in unit_paths():
        copy = tmp_path / path.name
        copy.write_text(path.read_text(encoding="utf-8").replace("/opt/lenta/bin/lenta", str(LENTA)), encoding="utf-8")
        copies.append(copy)
    return copies


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian: the systemd package)")
    return found


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    units = installed_units(tmp_path)
    result = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True, timeout=120)
    # verify exits 0 on unknown keys and values it ignores: its output must name none of our lines.
    said = [line for line in (result.stdout + result.stderr).splitlines() if "lenta-" in line]
    assert result.returncode == 0 and said == [], result.stdout + result.stderr


def test_systemd_analyze_rates_the_units_exposure_low(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    for unit in installed_units(tmp_path):
        result = subprocess.run(
            [analyze, "security", "--offline=yes", "--no-pager", str(unit)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
        if level is None and "offline" in result.stderr:  # systemd before 252 rates loaded units only
            pytest.skip(f"this systemd-analyze cannot rate a unit file: {result.stderr.strip()}")
        assert level is not None, result.stdout + result.stderr
        assert float(level.group(1)) <= 2.0, result.stdout


# --- the container image ------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions of its last stage (the image), as (NAME, arguments)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    instructions: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, arguments = line.partition(" ")
        if name.upper() == "FROM":
            instructions = []
        instructions.append((name.upper(), arguments.strip()))
    return instructions


def dockerfile(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile_instructions() if instruction == name]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for arguments in dockerfile("ENV"):
        env.update(item.partition("=")[::2] for item in shlex.split(arguments))
    return env


def test_the_image_is_what_the_readme_says() -> None:
    production = README.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    assert dockerfile("FROM") == ["python:3.11-slim"] and "`python:3.11-slim`" in production
    assert json.loads(dockerfile("CMD")[0]) == ["lenta", "serve"] and "runs `lenta serve`" in production
    assert dockerfile("USER") == ["10001:10001"] and "(uid 10001)" in production
    assert json.loads(dockerfile("VOLUME")[0]) == ["/data"] and "the volume `/data`" in production
    assert dockerfile("EXPOSE") == ["8080"] and "port 8080" in production
    env = dockerfile_env()
    assert env["LENTA_DB"] == "/data/lenta.sqlite" and "`LENTA_DB=/data/lenta.sqlite`" in production
    assert env["LENTA_HOST"] == "0.0.0.0" and "`LENTA_HOST=0.0.0.0`" in production
    assert env["LENTA_PORT"] == "8080"
    assert "`LENTA_ALLOWED_HOSTS`" in production  # the Host check: which names to allow
    assert dockerfile("HEALTHCHECK")[0].endswith('CMD ["/opt/lenta/bin/python", "/opt/lenta/healthcheck.py"]')
    assert set(env) - {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= {s.env for s in SETTINGS}


def test_the_image_keeps_babels_data_for_the_ui_languages_only() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    kept = re.search(r'keep="([^"]*)"', text)
    assert kept is not None
    languages = sorted(path.name for path in (ROOT / "src" / "lenta" / "locale").iterdir() if path.is_dir())
    assert sorted(kept.group(1).split()) == languages


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    sources = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            sources += words[1:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert any(source == entry or source.startswith(entry + "/") for entry in allowed), f"{source} is not in the context"


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lenta_healthcheck", HEALTHCHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_health_check_names_a_host_lenta_answers_to() -> None:
    host_header = load_healthcheck().host_header
    assert host_header({}) == "localhost"
    assert host_header({"LENTA_ALLOWED_HOSTS": " , feeds.example.org, other.example.org"}) == "feeds.example.org"
    assert host_header({"LENTA_BASE_URL": "https://u:p@feeds.example.org:8443/news/"}) == "feeds.example.org:8443"
    assert host_header({"LENTA_ALLOWED_HOSTS": "a.example", "LENTA_BASE_URL": "https://b.example/"}) == "a.example"


def run_healthcheck(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LENTA_")}
    environ.update(env, LENTA_PORT=str(port))
    return subprocess.run([sys.executable, str(HEALTHCHECK)], capture_output=True, text=True, timeout=60, env=environ)


def test_the_health_check_against_lenta_serve(tmp_path: Path) -> None:
    with lenta_serve(str(tmp_path / "lenta.sqlite"), LENTA_ALLOWED_HOSTS="feeds.example.org") as (port, _):
        assert run_healthcheck(port, LENTA_ALLOWED_HOSTS="feeds.example.org").returncode == 0
        # Asked by a name lenta does not answer to, lenta says 400: unhealthy, and why.
        wrong = run_healthcheck(port, LENTA_ALLOWED_HOSTS="elsewhere.example.org")
        assert wrong.returncode == 1 and "400" in wrong.stderr
    with lenta_serve(str(tmp_path / "lenta.sqlite"), LENTA_BASE_URL="https://feeds.example.org/") as (port, _):
        assert run_healthcheck(port, LENTA_BASE_URL="https://feeds.example.org/").returncode == 0
    with lenta_serve(str(tmp_path / "lenta.sqlite")) as (port, _):
        assert run_healthcheck(port).returncode == 0
    down = run_healthcheck(free_port())
    assert down.returncode == 1 and "unhealthy" in down.stderr


def container_engine() -> str:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container engine: docker is not installed")
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        why = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"no container engine: `docker info` failed ({why})")
    return docker


@pytest.fixture(scope="module")
def image() -> Iterator[tuple[str, str]]:
    """The image built from the tree, removed afterwards: (docker, tag)."""
    docker = container_engine()
    tag = f"lenta-test:{uuid.uuid4().hex[:12]}"
    built = subprocess.run([docker, "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-5000:]
    try:
        yield docker, tag
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120)


def in_container(docker: str, container: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker, "exec", container, *command], capture_output=True, text=True, timeout=120)


def test_the_image_serves_as_a_user_from_its_volume(image: tuple[str, str]) -> None:
    docker, tag = image
    started = subprocess.run(
        [docker, "run", "-d", "--init", "-p", "127.0.0.1::8080", tag], capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        mapped = subprocess.run([docker, "port", container, "8080/tcp"], capture_output=True, text=True, timeout=60)
        port = int(mapped.stdout.split()[0].rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, subprocess.run([docker, "logs", container], capture_output=True, text=True).stderr
            time.sleep(0.5)
        assert health.json()["database"] == "sqlite"
        assert httpx.get(f"http://127.0.0.1:{port}/aggregator", timeout=10).status_code == 200
        assert in_container(docker, container, "id", "-u").stdout.strip() == "10001"
        assert "lenta.sqlite" in in_container(docker, container, "ls", "/data").stdout.split()
        assert in_container(docker, container, "lenta", "--version").stdout.strip() == f"lenta, version {lenta.__version__}"
        assert in_container(docker, container, "/opt/lenta/bin/python", "/opt/lenta/healthcheck.py").returncode == 0
        assert in_container(docker, container, "python", "-c", "import psycopg").returncode == 0
    finally:
        subprocess.run([docker, "rm", "-f", "-v", container], capture_output=True, timeout=120)


@pytest.mark.postgres
def test_the_image_uses_postgresql_by_lenta_db(image: tuple[str, str]) -> None:
    docker, tag = image
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL (LENTA_TEST_POSTGRES_URL)")
    with fresh_postgres_schema() as url:
        listed = subprocess.run(
            [docker, "run", "--rm", "--network", "host", "-e", f"LENTA_DB={url}", tag, "lenta", "list", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr
