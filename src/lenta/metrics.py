"""Operator metrics (Prometheus text format) and a health check.

Fetch counts and durations by outcome are counted by the process that
fetched (``lenta serve`` with its scheduler, or ``lenta worker``); figures
that describe the whole site — feeds by state, items stored, queue lag —
are read from the database at scrape time, so any process can serve them.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import generate_latest

from lenta.storage import Storage

REGISTRY = CollectorRegistry(auto_describe=True)
FETCHES = Counter("lenta_fetches", "Feed fetches by outcome.", ["outcome"], registry=REGISTRY)
FETCH_SECONDS = Histogram(
    "lenta_fetch_duration_seconds", "Time from request to stored result, by outcome.", ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=REGISTRY,
)
ITEMS_STORED = Gauge("lenta_items_stored", "Items in the database.", registry=REGISTRY)
FEEDS = Gauge("lenta_feeds", "Feeds by state.", ["state"], registry=REGISTRY)
FEEDS_DUE = Gauge("lenta_feeds_due", "Feeds whose next check is now or past.", registry=REGISTRY)
QUEUE_LAG = Gauge("lenta_queue_lag_seconds", "How far behind schedule the most overdue feed is.", registry=REGISTRY)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def record_fetch(outcome: str, seconds: float) -> None:
    FETCHES.labels(outcome=outcome).inc()
    FETCH_SECONDS.labels(outcome=outcome).observe(seconds)


def render(storage: Storage, now: datetime) -> bytes:
    """The metrics page, with the database-derived gauges read now."""
    summary = storage.feeds.health_summary(now)
    ITEMS_STORED.set(storage.items.count())
    for state in ("ok", "error", "gone", "never_checked"):
        FEEDS.labels(state=state).set(summary.get(state, 0))
    FEEDS_DUE.set(summary.get("due", 0))
    QUEUE_LAG.set(summary.get("lag", 0.0))
    return generate_latest(REGISTRY)
