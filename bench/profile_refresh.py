"""Where lenta's refresh spends its time: ``lenta refresh`` under py-spy.

    python bench/profile_refresh.py [--feeds 1000] [--all-304] [--top 25]

Same corpus and server as bench/refresh.py: imports the OPML into a fresh
database, then records ``lenta refresh`` (or, with ``--all-304``, a second
``lenta refresh --all`` after a first unprofiled one) with
``py-spy record --subprocesses --idle``-less sampling, and prints the
functions with the most samples: by own time (self) and including callees
(total), over every process (the parse workers too). The raw collapsed
stacks are kept in bench/out/ for flame-graph tools.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _corpus  # noqa: E402
from _lenta import choose_url_form  # noqa: E402
from _lenta import lenta_cmd  # noqa: E402
from _lenta import lenta_env  # noqa: E402
from _server import FeedServer  # noqa: E402


def summarize(collapsed: Path, top: int) -> None:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        samples += count
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
        leaf = frames[-1]
        where = leaf[leaf.find("(") + 1 : leaf.rfind(")")] if "(" in leaf else leaf
        package = where.split("site-packages/")[-1].split("/lenta/")[-1].split(":")[0]
        modules["/".join(package.split("/")[:2])] += count
    print(f"{samples} samples in all processes")
    for title, counter in (("own time", own), ("including callees", total), ("own time by file", modules)):
        print(f"\ntop {top} by {title}:")
        for frame, count in counter.most_common(top):
            print(f"  {count / samples:6.1%}  {frame[:150]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--all-304", action="store_true", help="profile the all-304 refresh instead")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    corpus = _corpus.ensure_corpus(args.feeds, args.items, args.seed)
    print(corpus.describe(), flush=True)
    out = _corpus.OUT / f"profile-{'304' if args.all_304 else 'full'}-{args.feeds}.collapsed"
    with (
        tempfile.TemporaryDirectory(prefix="lenta-profile-") as tmp,
        FeedServer(args.seed, args.feeds, args.items, args.latency_ms) as server,
    ):
        host_names = choose_url_form(server.port)
        env = lenta_env(Path(tmp) / "lenta.sqlite", host_names)
        opml = Path(tmp) / "feeds.opml"
        _corpus.write_opml(opml, args.seed, [_corpus.feed_url(server.port, n, host_names=host_names) for n in range(args.feeds)])
        subprocess.run(lenta_cmd("import", "--no-fetch", str(opml)), env=env, check=True, capture_output=True, timeout=600)
        command = lenta_cmd("refresh")
        if args.all_304:
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=1800)
            command = lenta_cmd("refresh", "--all")
        done = subprocess.run(
            [
                py_spy,
                "record",
                "--subprocesses",
                "--rate",
                str(args.rate),
                "--format",
                "raw",
                "--output",
                str(out),
                "--",
                *command,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "", done.stderr.strip()[-400:])
    summarize(out, args.top)
    print(f"\ncollapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
