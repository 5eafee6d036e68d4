"""Operator metrics in Prometheus's text format, read from the database.

Every figure comes from the database at scrape time — fetch counts and
durations by outcome (cumulative counters the writers keep in
``fetch_stats``), items stored, feeds by state, how many are due and how
far behind schedule the most overdue one is — so the web server reports
what its refresher child, or any number of workers elsewhere, did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from lenta.storage import Storage
from lenta.storage.schema import FETCH_BUCKETS
from lenta.storage.schema import bucket_column

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FEED_STATES = ("ok", "error", "gone", "never_checked")


class LentaCollector(Collector):
    def __init__(self, storage: Storage, now: datetime) -> None:
        self.storage = storage
        self.now = now

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        stats = self.storage.feeds.fetch_stats()
        fetches = CounterMetricFamily("lenta_fetches", "Feed fetches by outcome.", labels=["outcome"])
        durations = HistogramMetricFamily(
            "lenta_fetch_duration_seconds", "Time from request to stored result, by outcome.", labels=["outcome"]
        )
        for outcome, row in sorted(stats.items()):
            fetches.add_metric([outcome], row["count"])
            buckets = [(str(bound), row[bucket_column(bound)]) for bound in FETCH_BUCKETS]
            durations.add_metric([outcome], buckets + [("+Inf", row["count"])], sum_value=row["seconds"])
        yield fetches
        yield durations

        summary = self.storage.feeds.health_summary(self.now)
        yield GaugeMetricFamily("lenta_items_stored", "Items in the database.", value=self.storage.items.count())
        feeds = GaugeMetricFamily("lenta_feeds", "Feeds by state.", labels=["state"])
        for state in FEED_STATES:
            feeds.add_metric([state], summary.get(state, 0))
        yield feeds
        yield GaugeMetricFamily("lenta_feeds_due", "Feeds whose next check is now or past.", value=summary.get("due", 0))
        yield GaugeMetricFamily(
            "lenta_queue_lag_seconds", "How far behind schedule the most overdue feed is.", value=summary.get("lag", 0.0)
        )


def render(storage: Storage, now: datetime) -> bytes:
    """The metrics page, read from the database now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LentaCollector(storage, now))
    return generate_latest(registry)
