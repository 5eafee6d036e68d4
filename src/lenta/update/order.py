"""Which process fetches which feed, and in which order: pure decisions.

A round runs ``concurrency`` fetches at once, and a fetch waiting for its
host's slot (``LENTA_PER_HOST``) or spacing (``LENTA_HOST_INTERVAL``) holds
one of them. Fetched in the order the database returns them, the feeds of
one host come together and wait on each other, while hosts later in the
list sit idle. :func:`fetch_order` deals the feeds out host by host, like
cards: the first feed of every host, then the second of every host, and so
on, so each wave of fetches is spread over as many hosts as there are.

A big round runs in several processes, one per core (:mod:`lenta.update.shards`).
:func:`shard_by_host` splits it: every host goes whole to one process, so
the per-host limits hold across them, and the hosts are dealt so that each
process gets about as many feeds as the others.
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


def shard_by_host(feeds: Iterable[Feed], count: int) -> list[list[Feed]]:
    """``feeds`` split into at most ``count`` non-empty shards, each host's
    feeds in one shard (in their given order), the shards about equal in size.

    The biggest hosts are placed first, each on the shard with the fewest
    feeds so far (ties to the lowest index), which keeps the shards within
    one host's feeds of each other.
    """
    by_host: dict[str, list[Feed]] = {}
    for feed in feeds:
        by_host.setdefault(_host(feed.url), []).append(feed)
    shards: list[list[Feed]] = [[] for _ in range(max(1, min(count, len(by_host))))]
    for group in sorted(by_host.values(), key=len, reverse=True):
        min(shards, key=len).extend(group)
    return [shard for shard in shards if shard]
