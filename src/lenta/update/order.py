"""Which process fetches which feed, and in which order: pure decisions.

A round runs ``concurrency`` fetches at once, and a fetch waiting for its
host's slot (``LENTA_PER_HOST``) or spacing (``LENTA_HOST_INTERVAL``) holds
one of them. Fetched in the order the database returns them, the feeds of
one host come together and wait on each other, while hosts later in the
list sit idle. :func:`fetch_order` deals the feeds out host by host, like
cards: the first feed of every host, then the second of every host, and so
on, so each wave of fetches is spread over as many hosts as there are.

A big round runs in several processes, one per core (:mod:`lenta.update.shards`).
:func:`plan_shards` splits it so that every process gets about as many
feeds as the others, whatever the mix of hosts, while the per-host limits
hold across processes: a host goes whole to one process, unless it alone
has more than a fair share of the round; then, if its requests need no
spacing, its feeds and its connections are split among processes (see
:class:`Shard`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from lenta.fetch import host_key
from lenta.types import Feed


def _host(url: str) -> str:
    try:
        return host_key(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _by_host(feeds: Iterable[Feed]) -> dict[str, list[Feed]]:
    by_host: dict[str, list[Feed]] = {}
    for feed in feeds:
        by_host.setdefault(_host(feed.url), []).append(feed)
    return by_host


def fetch_order(feeds: Iterable[Feed]) -> list[Feed]:
    """``feeds`` interleaved by host, each host's feeds in their given order."""
    queues = list(_by_host(feeds).values())
    ordered: list[Feed] = []
    depth = 0
    while queues:
        ordered.extend(queue[depth] for queue in queues)
        depth += 1
        queues = [queue for queue in queues if len(queue) > depth]
    return ordered


@dataclass(slots=True)
class Shard:
    """One process's part of a round.

    ``host_limits`` gives, for each host this process shares with others,
    how many connections to it this process may open: the shares of one
    host add up to ``LENTA_PER_HOST``, so the limit holds for the round as
    a whole. A host the process has whole is not listed (the setting
    applies).
    """

    feeds: list[Feed] = field(default_factory=list)
    host_limits: dict[str, int] = field(default_factory=dict)


def plan_shards(feeds: Iterable[Feed], count: int, *, per_host: int, interval: float) -> list[Shard]:
    """``feeds`` split into at most ``count`` non-empty shards of about equal size.

    The biggest hosts are placed first, each on the shard with the fewest
    feeds so far (ties to the lowest index), which keeps the shards within
    one host's feeds of each other. A host with more feeds than a fair
    share (the round over ``count``) would leave the other processes idle
    while one works through it: when its requests need no spacing
    (``interval`` 0), it is cut into near-equal runs on the least loaded
    shards, as many as ``count`` and ``per_host`` allow, and each run gets
    its share of the host's ``per_host`` connections. With spacing, the
    starts of its requests must be ordered by one process, so it stays
    whole; its requests then come at most one per ``interval``, slowly
    enough for one process to parse them.

    Each host's feeds keep their given order within a shard.
    """
    groups = sorted(_by_host(feeds).items(), key=lambda pair: len(pair[1]), reverse=True)
    total = sum(len(group) for _, group in groups)
    if not total:
        return []
    shards = [Shard() for _ in range(max(1, min(count, total)))]
    fair = -(-total // len(shards))
    for host, group in groups:
        ways = min(len(shards), per_host, len(group)) if interval <= 0 and len(group) > fair else 1
        # The least loaded shards, lowest index first among equals.
        chosen = sorted(range(len(shards)), key=lambda index: (len(shards[index].feeds), index))[:ways]
        start = 0
        for part, index in enumerate(chosen):
            size = len(group) // ways + (1 if part < len(group) % ways else 0)
            shards[index].feeds.extend(group[start : start + size])
            start += size
            if ways > 1:
                shards[index].host_limits[host] = per_host // ways + (1 if part < per_host % ways else 0)
    return [shard for shard in shards if shard.feeds]
