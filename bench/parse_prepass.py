"""Time the byte pre-pass lenta runs before lxml (``lenta.parse.xml``) on
every XML document of the shared corpus, and how many documents it changed.

``python bench/parse_prepass.py [--function NAME] [--repeat N]``: NAME is
the function of :mod:`lenta.parse.xml` to time, ``repair_text`` by
default (to time the pre-pass of an older checkout, run with its ``src``
first on ``PYTHONPATH`` and ``--function replace_html_entities``). The
input is what the pre-pass sees in ``parse_xml``: the document decoded to
UTF-8, control bytes dropped, DOCTYPE cut. Prints the best of N rounds,
in total and per megabyte, next to lxml's own parse of the same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lxml import etree

from lenta.parse import xml
from lenta.parse.encoding import decode_xml

CORPUS = Path(os.environ.get("LENTA_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
SUFFIXES = (".xml", ".rss", ".atom")


def documents() -> list[bytes]:
    docs = []
    for path in sorted((CORPUS / "real").iterdir()):
        if path.suffix in SUFFIXES:
            data = decode_xml(path.read_bytes())
            data = data.translate(None, xml._CONTROL_BYTES)
            docs.append(xml.strip_doctype(data))
    return docs


def best_of(repeat: int, run: object) -> float:
    assert callable(run)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--function", default="repair_text")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    prepass = getattr(xml, args.function)
    docs = documents()
    if not docs:
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 1
    megabytes = sum(map(len, docs)) / 1e6
    changed = sum(prepass(doc) is not doc for doc in docs)

    def run_prepass() -> None:
        for doc in docs:
            prepass(doc)

    def run_lxml() -> None:
        for doc in docs:
            etree.fromstring(doc, xml.make_parser())

    spent = best_of(args.repeat, run_prepass)
    parsed = best_of(max(3, args.repeat // 4), run_lxml)
    print(f"{len(docs)} documents, {megabytes:.2f} MB, {changed} changed by {args.function}")
    print(f"{args.function}: {spent * 1e3:.2f} ms ({spent * 1e3 / megabytes:.3f} ms/MB), best of {args.repeat}")
    print(f"lxml parse of the same bytes: {parsed * 1e3:.2f} ms ({parsed * 1e3 / megabytes:.3f} ms/MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
