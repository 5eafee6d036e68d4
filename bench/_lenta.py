"""Helpers to run lenta as real processes from the bench scripts."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _corpus


def source_fingerprint() -> str:
    """A digest of lenta's source tree: others edit it while the bench runs."""
    import lenta

    root = Path(lenta.__file__).resolve().parent
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".html", ".po", ".toml", ".cfg"}:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def compile_lenta() -> str:
    """Write lenta's bytecode, as installing a package does (pip compiles
    what it installs, reader included). An editable install compiles on
    first import instead, and not at all under PYTHONDONTWRITEBYTECODE,
    which some environments set: lenta would then compile its own source at
    every start, a cost no installed copy pays."""
    import compileall

    import lenta

    root = Path(lenta.__file__).resolve().parent
    compileall.compile_dir(str(root), quiet=1)
    note = " (PYTHONDONTWRITEBYTECODE is set here)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"lenta bytecode written under {root}{note}"


def lenta_env(db: Path, host_names: bool) -> dict[str, str]:
    """lenta's environment; with every feed on one host (``host_names``
    False), the per-host limits lifted, count and spacing, as reader has
    none: as many connections to the host as lenta has requests on the wire
    in all its refresh processes together (a round split among processes
    shares the host's connections among them)."""
    from lenta.config import load_settings
    from lenta.update.workers import cpu_count

    env = dict(os.environ, LENTA_DB=str(db), LENTA_FETCH_ALLOW="127.0.0.1")
    if not host_names:
        settings = load_settings(env)
        env["LENTA_PER_HOST"] = str(settings.concurrency * (settings.refresh_processes or cpu_count()))
        env["LENTA_HOST_INTERVAL"] = "0"
    return env


def lenta_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "lenta", *args]


def lenta_resolves_localhost(port: int) -> tuple[bool, str]:
    """Whether lenta fetches from a ``*.localhost`` name (RFC 6761) on its own."""
    with tempfile.TemporaryDirectory(prefix="lenta-probe-") as tmp:
        env = lenta_env(Path(tmp) / "probe.sqlite", True)
        url = _corpus.feed_url(port, 0, host_names=True)
        done = subprocess.run(lenta_cmd("parse", url), env=env, capture_output=True, text=True, timeout=120)
    return done.returncode == 0, (done.stderr or done.stdout).strip()[-300:]


def choose_url_form(port: int) -> bool:
    """Probe lenta and say which URLs it gets: True for ``hNNNN.localhost`` names."""
    host_names, why = lenta_resolves_localhost(port)
    if host_names:
        print(
            f"lenta URLs: http://hNNNN.localhost:{port}/fNNNNN.xml, {_corpus.FEEDS_PER_HOST} feeds per host "
            "name (lenta's per-host limit applies per site)",
            flush=True,
        )
    else:
        print(
            "!! lenta could not fetch from a *.localhost name, so it gets http://127.0.0.1 URLs with "
            f"LENTA_PER_HOST raised to the global limit and LENTA_HOST_INTERVAL=0. lenta said: {why}",
            flush=True,
        )
    return host_names
