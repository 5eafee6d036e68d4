"""Operator metrics in Prometheus's text format.

Every figure comes from the database at scrape time
(:meth:`lenta.core.Lenta.operator_figures`) — fetch counts and durations by
outcome (cumulative counters the writers keep), items stored, feeds by
state, how many are due and how far behind schedule the most overdue one
is — so the web server reports what its refresher child, or any number of
workers elsewhere, did. This module only renders them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from lenta.types import FEED_STATES
from lenta.types import OperatorFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LentaCollector(Collector):
    def __init__(self, figures: OperatorFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        figures = self.figures
        fetches = CounterMetricFamily("lenta_fetches", "Feed fetches by outcome.", labels=["outcome"])
        durations = HistogramMetricFamily(
            "lenta_fetch_duration_seconds", "Time from request to stored result, by outcome.", labels=["outcome"]
        )
        for row in figures.fetches:
            fetches.add_metric([row.outcome], row.count)
            buckets = [(str(bound), count) for bound, count in row.buckets]
            durations.add_metric([row.outcome], buckets + [("+Inf", row.count)], sum_value=row.seconds)
        yield fetches
        yield durations

        health = figures.health
        yield GaugeMetricFamily("lenta_items_stored", "Items in the database.", value=figures.items_stored)
        feeds = GaugeMetricFamily("lenta_feeds", "Feeds by state.", labels=["state"])
        for state in FEED_STATES:
            feeds.add_metric([state], health.feeds_by_state.get(state, 0))
        yield feeds
        yield GaugeMetricFamily("lenta_feeds_due", "Feeds whose next check is now or past.", value=health.feeds_due)
        yield GaugeMetricFamily(
            "lenta_queue_lag_seconds", "How far behind schedule the most overdue feed is.", value=health.queue_lag_seconds
        )


def render(figures: OperatorFigures) -> bytes:
    """The metrics page for ``figures``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LentaCollector(figures))
    return generate_latest(registry)
