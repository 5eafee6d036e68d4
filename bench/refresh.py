"""lenta vs reader: refresh the same synthetic corpus from the same local server.

    python bench/refresh.py [--feeds 1000] [--items 30] [--latency-ms 50]
                            [--rounds 3] [--hosts both|many|one]
                            [--skip-reader] [--scaling] [--keep]

1. generates (or reuses from bench/out/corpus/) N feeds in mixed formats
   and encodings, about 190 MB at N=1000;
2. serves them from a 2-process aiohttp server on 127.0.0.1 with ETag,
   Last-Modified, 304s, gzip and a fixed latency per response;
3. runs lenta as real processes on a fresh SQLite database: ``lenta import``
   of an OPML file, ``lenta refresh`` (every feed is due) and
   ``lenta refresh --all`` (every feed answers 304), for each host mix:
   "many hosts" (4 feeds per ``hNNNN.localhost`` name, lenta's default
   per-host limits) and "one host" (every feed on 127.0.0.1, the per-host
   limits lifted, count and spacing, as reader has none); then reader
   (bench/_reader_run.py) the same way: add, update_feeds twice (reader
   always gets 127.0.0.1 URLs: one run of it serves both mixes);
4. after one lenta import and refresh that is not measured (a warm-up:
   the server freshly started, nothing in memory yet), does 3. ``--rounds`` times (lenta first in odd rounds, reader first in
   even ones, so a drift in the machine's speed hurts both alike);
5. prints wall and CPU seconds, feeds/s, items/s, peak RSS of the process
   tree, database size and items stored, and the ratios against the
   targets for each host mix: each round's, and their median, which the
   verdicts use (one round's ratio swings by a fifth on this shared VM,
   its speed drifting by as much within minutes; bench/README.md).

It reports; it never fails on the figures (exit status 0).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _corpus  # noqa: E402
import _measure  # noqa: E402
from _lenta import choose_url_form  # noqa: E402
from _lenta import compile_lenta  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402
from _lenta import lenta_env  # noqa: E402
from _lenta import source_fingerprint  # noqa: E402
from _server import FeedServer  # noqa: E402

SUMMARY = re.compile(r"(\d+) feeds: (\d+) ok, (\d+) not modified, (\d+) failed; (\d+) new items, (\d+) updated")
TARGET_FULL = 10.0
TARGET_304 = 5.0
TARGET_MEMORY_MB = 300.0
TARGET_SCALING = 5.5
MANY, ONE = "many hosts", "one host"


@dataclass
class Phase:
    run: _measure.Run
    feeds: int
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    db_bytes: int = 0
    server: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass
class Side:
    name: str
    feeds: int
    hosts: str  # MANY or ONE (reader: ONE, whatever lenta's mix)
    phases: dict[str, Phase] = field(default_factory=dict)
    stored: int | None = None  # items stored after the full refresh
    stored_note: str = ""
    tmp: Path | None = None
    round: int = 1


def _server_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after}


def measured(
    label: str, argv: list[str], env: dict[str, str], server: FeedServer, feeds: int, args: argparse.Namespace, db: Path
) -> Phase:
    waited, load = _measure.wait_quiet(args.quiet_wait, exclude=(server.pid,))
    if load >= _measure.QUIET_CORES:
        print(
            f"   (the machine is busy: the rest of it uses {load:.1f} cores; measuring anyway after {waited:.0f} s)", flush=True
        )
    before = server.stats()
    run = _measure.run(label, argv, env, args.timeout, exclude=(server.pid,))
    phase = Phase(run, feeds, server=_server_delta(before, server.stats()), db_bytes=_measure.sqlite_size(db))
    run.check()
    print(
        f"   {label}: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU, peak RSS {run.peak_rss / 2**20:.0f} MB "
        f"(PSS {run.peak_pss / 2**20:.0f} MB, {run.peak_procs} processes); rest of the machine used "
        f"{run.other_cpu:.1f} s CPU meanwhile",
        flush=True,
    )
    return phase


def new_side(name: str, feeds: int, hosts: str, sides: list[Side], round_: int = 1) -> Side:
    """A side with its temporary directory, registered at once so that it is cleaned up on any failure."""
    side = Side(name, feeds, hosts, tmp=Path(tempfile.mkdtemp(prefix=f"{name}-bench-{feeds}-")), round=round_)
    sides.append(side)
    return side


def run_lenta(side: Side, server: FeedServer, corpus: _corpus.Corpus, args: argparse.Namespace) -> Side:
    assert side.tmp is not None
    db = side.tmp / "lenta.sqlite"
    host_names = side.hosts == MANY
    env = lenta_env(db, host_names)
    opml = side.tmp / "feeds.opml"
    urls = [_corpus.feed_url(server.port, n, host_names=host_names) for n in range(corpus.feeds)]
    _corpus.write_opml(opml, corpus.seed, urls)
    print(f"-- lenta, {side.hosts}, N={corpus.feeds}, round {side.round}, database {db}", flush=True)
    side.phases["add"] = measured(
        "lenta import", lenta_cmd("import", "--no-fetch", str(opml)), env, server, corpus.feeds, args, db
    )
    for key, cmd in (("full", ("refresh",)), ("304", ("refresh", "--all"))):
        phase = measured(f"lenta {' '.join(cmd)}", lenta_cmd(*cmd), env, server, corpus.feeds, args, db)
        match = SUMMARY.search(phase.run.stdout)
        if match:
            _, phase.ok, phase.not_modified, phase.failed, phase.new_items, _ = map(int, match.groups())
        output = (phase.run.stdout + phase.run.stderr).splitlines()
        phase.failures = [line for line in output if line.startswith("failed:")]
        side.phases[key] = phase
        if key == "full":
            side.stored, side.stored_note = lenta_stored(db, env)
    done_with(side, args)
    return side


def lenta_stored(db: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Items stored: the sum of ``lenta list --json``, checked against the items table."""
    done = subprocess.run(lenta_cmd("list", "--json"), env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return None, f"lenta list failed: {done.stderr.strip()[-200:]}"
    rows = json.loads(done.stdout)
    listed = sum(row["items"] for row in rows)
    errors = sum(1 for row in rows if row["error"])
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        counted = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    note = f"list --json {listed}, items table {counted}, feeds with an error {errors}"
    return listed, note


def run_reader(side: Side, server: FeedServer, corpus: _corpus.Corpus, args: argparse.Namespace) -> Side:
    assert side.tmp is not None
    db = side.tmp / "reader.sqlite"
    urls_file = side.tmp / "urls.txt"
    urls_file.write_text("\n".join(_corpus.feed_url(server.port, n, host_names=False) for n in range(corpus.feeds)))
    runner = [sys.executable, str(HERE / "_reader_run.py")]
    env = dict(os.environ)
    print(f"-- reader, N={corpus.feeds}, round {side.round}, database {db}", flush=True)
    side.phases["add"] = measured("reader add", [*runner, "add", str(db), str(urls_file)], env, server, corpus.feeds, args, db)
    for key in ("full", "304"):
        phase = measured(
            f"reader update #{1 if key == 'full' else 2}", [*runner, "update", str(db)], env, server, corpus.feeds, args, db
        )
        try:
            result = json.loads(phase.run.stdout.strip().splitlines()[-1])
            phase.ok, phase.not_modified, phase.failed = result["ok"], result["not_modified"], result["failed"]
            phase.new_items, phase.failures = result["new"], result["errors"]
        except (IndexError, ValueError, KeyError):
            pass
        side.phases[key] = phase
        if key == "full":
            done = subprocess.run([*runner, "count", str(db)], capture_output=True, text=True, timeout=300)
            try:
                counts = json.loads(done.stdout)
                side.stored = counts["entries"]
                side.stored_note = f"get_entry_counts() {counts['entries']}, broken feeds {counts['broken']}"
            except (ValueError, KeyError):
                side.stored_note = f"count failed: {done.stderr.strip()[-200:]}"
    done_with(side, args)
    return side


def done_with(side: Side, args: argparse.Namespace) -> None:
    """Remove a measured side's database at once (rounds would pile up gigabytes), unless --keep."""
    if side.tmp is None:
        return
    if args.keep:
        print(f"   kept {side.tmp}", flush=True)
    else:
        shutil.rmtree(side.tmp, ignore_errors=True)
    side.tmp = None


def _mb(n: float) -> str:
    return f"{n / 2**20:.0f}"


def print_table(sides: list[Side]) -> None:
    header = (
        "run",
        "hosts",
        "N",
        "round",
        "wall s",
        "CPU s",
        "other CPU s",
        "feeds/s",
        "items/s",
        "peak RSS MB",
        "PSS MB",
        "DB MB",
        "ok/304/failed",
        "new items",
        "server: 200/304/gzip, MB sent",
    )
    rows = [header]
    for side in sides:
        for key, phase in side.phases.items():
            run = phase.run
            items_s = f"{phase.new_items / run.wall:.0f}" if key == "full" and run.wall else "-"
            outcome = f"{phase.ok}/{phase.not_modified}/{phase.failed}" if key != "add" else "-"
            server = phase.server
            served = (
                f"{server.get('ok', 0)}/{server.get('not_modified', 0)}/{server.get('gzip', 0)}, "
                f"{server.get('body_bytes', 0) / 1e6:.1f}"
            )
            rows.append(
                (
                    f"{side.name} {'add' if key == 'add' else 'full refresh' if key == 'full' else 'all-304'}",
                    side.hosts if side.name == "lenta" else "-",
                    str(side.feeds),
                    str(side.round),
                    f"{run.wall:.2f}",
                    f"{run.cpu:.2f}",
                    f"{run.other_cpu:.1f}",
                    f"{phase.feeds / run.wall:.0f}",
                    items_s,
                    _mb(run.peak_rss),
                    _mb(run.peak_pss),
                    f"{phase.db_bytes / 2**20:.1f}",
                    outcome,
                    str(phase.new_items) if key != "add" else "-",
                    served,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        print(
            "  ".join(
                cell.rjust(w) if 1 < j < len(row) - 1 else cell.ljust(w)
                for j, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _median(values: list[float]) -> float:
    return statistics.median(values)


def print_ratios(lentas: list[Side], readers: list[Side], scaled: list[Side]) -> None:
    print(f"\ntargets, {lentas[0].hosts}:")
    for key, target, name in (("full", TARGET_FULL, "full refresh"), ("304", TARGET_304, "all-304")):
        pairs = [(r, lenta) for lenta in lentas for r in readers if r.round == lenta.round]
        if not pairs:
            break
        walls = [r.phases[key].run.wall / lenta.phases[key].run.wall for r, lenta in pairs]
        cpus = [r.phases[key].run.cpu / max(lenta.phases[key].run.cpu, 1e-9) for r, lenta in pairs]
        ratio = _median(walls)
        rounds = ", ".join(f"{w:.2f}x" for w in walls)
        print(
            f"  {name:<28} reader/lenta wall {ratio:6.2f}x   (target >= {target:g}x: {verdict(ratio >= target)});"
            f"  CPU ratio {_median(cpus):.2f}x;  rounds: {rounds}"
        )
    peaks = [lenta.phases["full"].run.peak_rss / 2**20 for lenta in lentas]
    peak = max(peaks)
    feeds = lentas[0].feeds
    print(
        f"  {'lenta peak memory, full':<28} {peak:6.0f} MB    (target < {TARGET_MEMORY_MB:g} MB at N=1000"
        f"{'' if feeds == 1000 else f', this run N={feeds}'}: {verdict(peak < TARGET_MEMORY_MB)});"
        f"  the largest of rounds: {', '.join(f'{p:.0f}' for p in peaks)} MB"
    )
    if scaled:

        def median_wall(group: list[Side], key: str) -> float:
            return _median([side.phases[key].run.wall for side in group])

        ratio = median_wall(scaled, "full") / median_wall(lentas, "full")
        ratio304 = median_wall(scaled, "304") / median_wall(lentas, "304")
        name = f"scaling t({scaled[0].feeds})/t({feeds})"
        walls = ", ".join(f"{side.phases['full'].run.wall:.1f}" for side in scaled)
        print(
            f"  {name:<28} {ratio:6.2f}x    "
            f"(target <= {TARGET_SCALING:g}x: {verdict(ratio <= TARGET_SCALING)}); all-304 {ratio304:.2f}x"
            f"  (median rounds against median rounds; N={scaled[0].feeds} full: {walls} s)"
        )


def print_checks(sides: list[Side], items: int) -> None:
    print(f"\nitems stored after the full refresh ({items} per feed expected):")
    for side in sides:
        expected = items * side.feeds
        mark = "as expected" if side.stored == expected else f"EXPECTED {expected}"
        where = f", {side.hosts}" if side.name == "lenta" else ""
        print(f"  {side.name}{where} N={side.feeds} round {side.round}: {side.stored} {mark}  ({side.stored_note})")
        for key in ("full", "304"):
            failures = side.phases[key].failures
            if failures:
                print(f"    {key}: {len(failures)} failures, e.g. " + "; ".join(failures[:3]))


def corpus_for(feeds: int, args: argparse.Namespace) -> _corpus.Corpus:
    corpus = _corpus.ensure_corpus(feeds, args.items, args.seed)
    print(corpus.describe(), flush=True)
    return corpus


def warm_up(server: FeedServer, corpus: _corpus.Corpus, *, host_names: bool) -> None:
    """One lenta import and refresh, not measured, before the first round:
    the first round ran on a freshly started server, against files and
    pages not yet in memory, and was the slowest of three for both
    programs in most runs (bench/HISTORY.md)."""
    with tempfile.TemporaryDirectory(prefix="lenta-bench-warm-up-") as tmp:
        db = Path(tmp) / "lenta.sqlite"
        env = lenta_env(db, host_names)
        opml = Path(tmp) / "feeds.opml"
        urls = [_corpus.feed_url(server.port, n, host_names=host_names) for n in range(corpus.feeds)]
        _corpus.write_opml(opml, corpus.seed, urls)
        started = time.perf_counter()
        for argv in (lenta_cmd("import", "--no-fetch", str(opml)), lenta_cmd("refresh")):
            subprocess.run(argv, env=env, capture_output=True, timeout=1800, check=False)
        print(f"-- warm-up (not measured): lenta import and refresh, {time.perf_counter() - started:.1f} s", flush=True)


def lenta_at(feeds: int, args: argparse.Namespace, sides: list[Side], *, rounds: int = 1, with_reader: bool = False) -> list[str]:
    """Run the rounds at N=``feeds``; returns the host mixes lenta ran."""
    corpus = corpus_for(feeds, args)
    with FeedServer(args.seed, feeds, args.items, args.latency_ms) as server:
        mixes = [MANY, ONE] if args.hosts == "both" else [MANY if args.hosts == "many" else ONE]
        if MANY in mixes and not choose_url_form(server.port):
            mixes.remove(MANY)
        if ONE in mixes:
            print(
                f"lenta URLs, {ONE}: http://127.0.0.1:{server.port}/fNNNNN.xml, LENTA_PER_HOST raised to "
                "LENTA_CONCURRENCY times the refresh processes, LENTA_HOST_INTERVAL=0",
                flush=True,
            )
        warm_up(server, corpus, host_names=mixes[0] == MANY if mixes else False)
        for round_ in range(1, rounds + 1):
            # lenta first in odd rounds, reader first in even ones; lenta's mixes in turn around it
            order = [*mixes, "reader"] if round_ % 2 == 1 else ["reader", *reversed(mixes)]
            for who in order:
                if who != "reader":
                    run_lenta(new_side("lenta", feeds, who, sides, round_), server, corpus, args)
                elif with_reader:
                    run_reader(new_side("reader", feeds, ONE, sides, round_), server, corpus, args)
    return mixes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000, help="feeds in the corpus (default 1000)")
    parser.add_argument("--items", type=int, default=30, help="items per feed (default 30)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server latency per response (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of lenta and reader, alternating which goes first (default 3)"
    )
    parser.add_argument("--skip-reader", action="store_true", help="run lenta only")
    parser.add_argument("--scaling", action="store_true", help="also run lenta alone at 5x the feeds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    parser.add_argument(
        "--hosts",
        choices=("both", "many", "one"),
        default="both",
        help="lenta's host mix: many hosts (4 feeds a name), one host (127.0.0.1, per-host limits lifted), or both (default)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="most seconds for one command (default 1800)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for the rest of the machine to go quiet (default 60; 0: do not wait)",
    )
    args = parser.parse_args(argv)

    from importlib.metadata import version

    print(f"bench/refresh.py {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {_measure.machine()}")
    print(
        f"lenta {version('lenta')}, reader {version('reader')}; latency {args.latency_ms:g} ms; "
        f"LENTA_CONCURRENCY={os.environ.get('LENTA_CONCURRENCY', '(default)')} "
        f"LENTA_PER_HOST={os.environ.get('LENTA_PER_HOST', '(default)')}; reader workers=16"
    )
    print(compile_lenta())
    fingerprint = source_fingerprint()
    print(f"lenta source fingerprint {fingerprint}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sides: list[Side] = []
    try:
        mixes = lenta_at(args.feeds, args, sides, rounds=max(1, args.rounds), with_reader=not args.skip_reader)
        readers = [s for s in sides if s.name == "reader"]
        if args.scaling:
            lenta_at(args.feeds * 5, args, sides, rounds=max(1, args.rounds))
        print()
        print_table(sides)
        print_checks(sides, args.items)
        for mix in mixes:
            lentas = [s for s in sides if s.name == "lenta" and s.hosts == mix and s.feeds == args.feeds]
            scaled = [s for s in sides if s.name == "lenta" and s.hosts == mix and s.feeds == args.feeds * 5]
            print_ratios(lentas, readers, scaled)
        if source_fingerprint() != fingerprint:
            print(
                f"!! lenta's source changed during the run ({fingerprint} -> {source_fingerprint()}): "
                "the runs did not all measure the same code"
            )
    finally:
        for side in sides:
            done_with(side, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
