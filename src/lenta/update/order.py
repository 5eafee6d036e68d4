"""In which order a round fetches its feeds: a pure decision.

A round runs ``concurrency`` fetches at once, and a fetch waiting for its
host's slot (``LENTA_PER_HOST``) or spacing (``LENTA_HOST_INTERVAL``) holds
one of them. Fetched in the order the database returns them, the feeds of
one host come together and wait on each other, while hosts later in the
list sit idle. :func:`fetch_order` deals the feeds out host by host, like
cards: the first feed of every host, then the second of every host, and so
on, so each wave of fetches is spread over as many hosts as there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from lenta.fetch import host_key
from lenta.types import Feed


def _host(url: str) -> str:
    try:
        return host_key(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def fetch_order(feeds: Iterable[Feed]) -> list[Feed]:
    """``feeds`` interleaved by host, each host's feeds in their given order."""
    by_host: dict[str, list[Feed]] = {}
    for feed in feeds:
        by_host.setdefault(_host(feed.url), []).append(feed)
    queues = list(by_host.values())
    ordered: list[Feed] = []
    depth = 0
    while queues:
        ordered.extend(queue[depth] for queue in queues)
        depth += 1
        queues = [queue for queue in queues if len(queue) > depth]
    return ordered
