"""The reader side of the benchmark, one phase per process.

    python bench/_reader_run.py add DB URLS_FILE   # add every URL (one a line)
    python bench/_reader_run.py update DB          # update_feeds(workers=16), every feed
    python bench/_reader_run.py count DB           # entries stored

Each prints one JSON line on standard output. ``update`` goes through
``update_feeds_iter`` (what ``update_feeds`` does inside) to count the
outcomes, with ``scheduled=False`` so that the second run checks every
feed, as ``lenta refresh --all`` does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from reader import UpdatedFeed
from reader import make_reader

WORKERS = 16


def add(db: str, urls_file: str) -> dict[str, object]:
    reader = make_reader(db)
    urls = Path(urls_file).read_text().split()
    for url in urls:
        reader.add_feed(url, exist_ok=True)
    reader.close()
    return {"added": len(urls)}


def update(db: str) -> dict[str, object]:
    reader = make_reader(db)
    ok = not_modified = failed = new = modified = 0
    errors: list[str] = []
    started = time.perf_counter()
    for result in reader.update_feeds_iter(scheduled=False, workers=WORKERS):
        if isinstance(result.value, UpdatedFeed):
            ok += 1
            new += result.value.new
            modified += result.value.modified
        elif result.value is None:
            not_modified += 1
        else:
            failed += 1
            if len(errors) < 5:
                errors.append(f"{result.url}: {result.value!r}")
    seconds = time.perf_counter() - started
    reader.close()
    return {
        "ok": ok,
        "not_modified": not_modified,
        "failed": failed,
        "new": new,
        "modified": modified,
        "errors": errors,
        "seconds": seconds,
    }


def count(db: str) -> dict[str, object]:
    reader = make_reader(db, read_only=True)
    counts = reader.get_entry_counts()
    feeds = reader.get_feed_counts()
    reader.close()
    return {"entries": counts.total, "feeds": feeds.total, "broken": feeds.broken}


def main(argv: list[str]) -> int:
    command, *args = argv
    result = {"add": add, "update": update, "count": count}[command](*args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
