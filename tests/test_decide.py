"""The pipeline's pure decisions, table-driven."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.update import decide
from lenta.update import schedule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sanitize(html: str | None, base: str | None) -> str | None:
    return html


@pytest.mark.parametrize(
    ("item", "key"),
    [
        (ParsedItem(guid=" g1 ", link="https://e.x/1"), "g1"),
        (ParsedItem(guid="", link="https://e.x/1"), "https://e.x/1"),
        (ParsedItem(link="https://e.x/1"), "https://e.x/1"),
    ],
)
def test_item_key_prefers_guid_then_link(item: ParsedItem, key: str) -> None:
    assert decide.item_key(item) == key


def test_item_key_without_guid_or_link_hashes_the_content() -> None:
    a = decide.item_key(ParsedItem(title="T", content="<p>x</p>"))
    assert a.startswith("sha256:")
    assert a == decide.item_key(ParsedItem(title="T", content="<p>x</p>"))
    assert a != decide.item_key(ParsedItem(title="T", content="<p>y</p>"))


def test_sort_date_prefers_published_then_updated_then_now_and_never_the_future() -> None:
    published = NOW - timedelta(days=1)
    assert decide.sort_date(ParsedItem(published=published, updated=NOW), NOW) == published
    assert decide.sort_date(ParsedItem(updated=published), NOW) == published
    assert decide.sort_date(ParsedItem(), NOW) == NOW
    assert decide.sort_date(ParsedItem(published=NOW + timedelta(days=300)), NOW) == NOW
    assert decide.sort_date(ParsedItem(published=NOW + timedelta(minutes=5)), NOW) == NOW + timedelta(minutes=5)


def test_build_records_keeps_feed_order_drops_duplicates_and_falls_back_to_summary() -> None:
    feed = ParsedFeed(
        format="rss2.0",
        items=(
            ParsedItem(guid="1", title="one", summary="<p>short</p>"),
            ParsedItem(guid="2", title="two", content="<p>full</p>", summary="<p>short</p>"),
            ParsedItem(guid="1", title="one again"),
        ),
    )
    records = decide.build_records(feed, sanitize, NOW).records
    assert [(r.key, r.title, r.content, r.summary) for r in records] == [
        ("1", "one", "<p>short</p>", None),
        ("2", "two", "<p>full</p>", "<p>short</p>"),
    ]


def test_a_change_in_any_stored_field_changes_the_hash() -> None:
    base = ParsedItem(guid="1", title="t", content="c", link="https://e.x/")
    variants = [
        ParsedItem(guid="1", title="t2", content="c", link="https://e.x/"),
        ParsedItem(guid="1", title="t", content="c2", link="https://e.x/"),
        ParsedItem(guid="1", title="t", content="c", link="https://e.x/2"),
        ParsedItem(guid="1", title="t", content="c", link="https://e.x/", categories=("a",)),
    ]
    hashes = {decide.build_records(ParsedFeed("rss2.0", items=(v,)), sanitize, NOW).records[0].hash for v in [base, *variants]}
    assert len(hashes) == 5


def test_plan_items_new_changed_unchanged_and_retention() -> None:
    feed = ParsedFeed(
        format="rss2.0",
        items=(
            ParsedItem(guid="same", title="s"),
            ParsedItem(guid="changed", title="c"),
            ParsedItem(guid="new", title="n"),
            ParsedItem(guid="old", title="o", published=NOW - timedelta(days=90)),
        ),
    )
    records = decide.build_records(feed, sanitize, NOW).records
    by_key = {r.key: r for r in records}
    existing = {"same": (1, by_key["same"].hash, NOW), "changed": (2, "different", NOW)}
    plan = decide.plan_items(
        records, existing, now=NOW, previous_check=NOW - timedelta(hours=1), discard_before=NOW - timedelta(days=30)
    )
    assert [r.key for r in plan.new] == ["new"]
    assert list(plan.changed) == [2]
    assert plan.unchanged == 1
    keep_all = decide.plan_items(records, existing, now=NOW)
    assert [r.key for r in keep_all.new] == ["new", "old"]


def test_publish_interval_estimate() -> None:
    dates = [NOW - timedelta(hours=2 * n) for n in range(10)]
    assert schedule.estimate_publish_interval(dates, None) == pytest.approx(7200)
    assert schedule.estimate_publish_interval(dates, 3600.0) == pytest.approx(5400)
    assert schedule.estimate_publish_interval([NOW], 100.0) == 100.0
