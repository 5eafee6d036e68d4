"""Items a feed gives no date: each gets a stable date, the first time lenta
saw it but never newer than the feed's previous check (so one fetch of an
undated feed does not bury what other feeds published since), in the
document's order, and never changed by a later fetch.

The rule itself (:func:`lenta.update.decide.date_undated`) is tested as a
pure function, with hypothesis over any mix of dated, undated and stored
items; then through real refreshes of feeds served on 127.0.0.1 into
SQLite and PostgreSQL, read back as the river shows them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from httpserver import LocalServer
from httpserver import RecordedRequest
from httpserver import Reply
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.parse.model import ParsedFeed
from lenta.parse.model import ParsedItem
from lenta.storage.records import ItemRecord
from lenta.update import decide

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def sanitize(html: str | None, base: str | None) -> str | None:
    return html


def records(*items: tuple[str, datetime | None], now: datetime = T0) -> list[ItemRecord]:
    """Records as a fetch at ``now`` builds them: (guid, published or None) each, in document order."""
    parsed = ParsedFeed("rss2.0", items=tuple(ParsedItem(guid=guid, title=guid, published=date) for guid, date in items))
    return decide.build_records(parsed, sanitize, now).records


def dates(result: list[ItemRecord]) -> dict[str, datetime]:
    return {record.key: record.date for record in result}


# -- the rule ---------------------------------------------------------------


def test_a_first_fetch_of_an_undated_feed_is_spread_below_now_in_document_order() -> None:
    fetched = records(("a", None), ("b", None), ("c", None))
    result = decide.date_undated(fetched, {}, now=T0, previous_check=None)
    assert [r.date for r in result] == [T0, T0 - decide.UNDATED_STEP, T0 - 2 * decide.UNDATED_STEP]


def test_new_undated_items_are_not_newer_than_the_previous_check() -> None:
    # Found at T0 + 3h, but they may have been there since the check at T0:
    # a dated item published at T0 + 1h must stay above them.
    fetched = records(("new", None), ("old", None), now=T0 + 3 * HOUR)
    result = decide.date_undated(fetched, {"old": T0 - 5 * HOUR}, now=T0 + 3 * HOUR, previous_check=T0)
    assert dates(result) == {"new": T0, "old": T0 - 5 * HOUR}


def test_on_a_first_fetch_undated_items_are_not_newer_than_the_newest_dated_one() -> None:
    fetched = records(("top", None), ("d1", T0 - 10 * HOUR), ("mid", None), ("d2", T0 - 12 * HOUR))
    result = dates(decide.date_undated(fetched, {}, now=T0, previous_check=None))
    assert result["top"] == T0 - 10 * HOUR  # no newer than the newest dated item
    assert T0 - 12 * HOUR < result["mid"] < T0 - 10 * HOUR  # between its neighbours
    assert (result["d1"], result["d2"]) == (T0 - 10 * HOUR, T0 - 12 * HOUR)  # dated items keep their own


def test_stored_undated_items_keep_their_date_changed_or_not() -> None:
    stored = {"a": T0 - 7 * HOUR, "b": T0 - 8 * HOUR}
    fetched = records(("a", None), ("b", None), now=T0 + 50 * HOUR)
    result = decide.date_undated(fetched, stored, now=T0 + 50 * HOUR, previous_check=T0 + 49 * HOUR)
    assert dates(result) == stored


def test_items_inserted_between_stored_ones_land_between_them() -> None:
    stored = {"a": T0, "c": T0 - 4 * HOUR}
    fetched = records(("a", None), ("b1", None), ("b2", None), ("c", None), ("d", None), now=T0 + HOUR)
    result = dates(decide.date_undated(fetched, stored, now=T0 + HOUR, previous_check=T0))
    assert result["a"] > result["b1"] > result["b2"] > result["c"] > result["d"]
    assert result["d"] == T0 - 5 * HOUR  # nothing below it: one step below the item above


def test_plan_items_stores_a_changed_undated_item_with_its_old_date() -> None:
    first = records(("a", None))
    (stored,) = decide.plan_items(first, {}, now=T0).new
    edited = decide.build_records(
        ParsedFeed("rss2.0", items=(ParsedItem(guid="a", title="a, edited"),)), sanitize, T0 + 9 * HOUR
    ).records
    plan = decide.plan_items(edited, {"a": (1, stored.hash, stored.date)}, now=T0 + 9 * HOUR, previous_check=T0)
    assert plan.changed[1].title == "a, edited" and plan.changed[1].date == T0
    dated = records(("a", T0 - 100 * HOUR), now=T0 + 9 * HOUR)  # the feed gives it a date at last: that date wins
    assert decide.plan_items(dated, {"a": (1, stored.hash, T0)}, now=T0 + 9 * HOUR).changed[1].date == T0 - 100 * HOUR


# -- the rule over any mix --------------------------------------------------

offsets = st.integers(min_value=-2000, max_value=2000).map(lambda hours: T0 + timedelta(minutes=hours * 7))


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[ItemRecord], dict[str, datetime], datetime, datetime | None]:
    count = draw(st.integers(min_value=0, max_value=30))
    items = [(f"i{index}", draw(st.none() | offsets)) for index in range(count)]
    now = draw(offsets)
    fetched = records(*items, now=now)
    stored_keys = draw(st.sets(st.sampled_from([key for key, _ in items]) if items else st.nothing()))
    previous = draw(st.none() | offsets.filter(lambda moment: moment <= now))
    stored = {key: draw(offsets) for key in sorted(stored_keys)}
    return fetched, stored, now, previous


@given(documents())
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_document_dated_within_its_bounds(
    case: tuple[list[ItemRecord], dict[str, datetime], datetime, datetime | None],
) -> None:
    fetched, stored, now, previous = case
    result = decide.date_undated(fetched, stored, now=now, previous_check=previous)
    assert [r.key for r in result] == [r.key for r in fetched]
    for before, after in zip(fetched, result):
        assert after.hash == before.hash  # only the sort date is decided here
        if not decide.is_undated(before):
            assert after == before
        elif before.key in stored:
            assert after.date == stored[before.key]  # once given, kept
        else:
            assert after.date <= now and (previous is None or after.date <= previous)
    # Each run of new undated items keeps the document's order and stays at
    # or below the known item listed above it.
    known = [not decide.is_undated(r) or r.key in stored for r in fetched]
    for index in range(1, len(result)):
        if not known[index]:
            assert result[index].date <= result[index - 1].date
    # Dating is a fixed point: the same document again, everything stored, changes nothing.
    again = decide.date_undated(result, dates(result), now=now + HOUR, previous_check=now)
    assert [r.date for r in again] == [r.date for r in result]


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=12), st.integers(min_value=1, max_value=600))
@hypothesis_settings(max_examples=200, deadline=None)
def test_an_undated_feed_growing_at_the_top_reads_in_document_order(arrivals: list[int], minutes: int) -> None:
    """Fetch after fetch, a feed puts ``arrivals[n]`` new undated items on
    top: sorted as the river sorts (date, then id, newest first), the stored
    items read as the document lists them, and no date ever moves."""
    document: list[str] = []
    stored: dict[str, tuple[int, str, datetime]] = {}
    next_id = 1
    previous: datetime | None = None
    for fetch, count in enumerate(arrivals):
        now = T0 + fetch * timedelta(minutes=minutes)
        document = [f"f{fetch}-{n}" for n in range(count)] + document
        plan = decide.plan_items(records(*((key, None) for key in document), now=now), stored, now=now, previous_check=previous)
        assert not plan.changed
        for record in reversed(plan.new):  # as storage inserts them: last listed first
            assert record.date <= (previous or now)
            stored[record.key] = (next_id, record.hash, record.date)
            next_id += 1
        river = sorted(stored, key=lambda key: (stored[key][2], stored[key][0]), reverse=True)
        assert river == document
        previous = now


# -- real refreshes ---------------------------------------------------------


def rss(*items: tuple[str, datetime | None], title: str) -> bytes:
    body = "".join(
        f"<item><title>{guid}</title><guid>{guid}</guid><description>{guid}</description>"
        + (f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate>" if date else "")
        + "</item>"
        for guid, date in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.com/</link>{body}</channel></rss>"
    ).encode()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


class Feeds:
    """Routes whose documents a test changes between refreshes."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}

    def route(self, path: str) -> Callable[[RecordedRequest], Reply]:
        def reply(request: RecordedRequest) -> Reply:
            return Reply(body=self.bodies[path], headers=RSS)

        return reply


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def clocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Lenta, Clock]]:
    database = str(tmp_path / "undated.sqlite") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = load_settings({}, db=database, fetch_allow="127.0.0.1", scheduler=False, host_interval=0.0)
    clock = Clock(T0)
    lenta = make_lenta(settings, clock=clock)
    yield lenta, clock
    lenta.close()


def refresh(lenta: Lenta, *feed_ids: int) -> None:
    asyncio.run(lenta.refresh(feed_ids))


def river(lenta: Lenta, per_page: int = 50) -> list[str]:
    return [item.title or "" for item in lenta.items_page(0, per_page).items]


def test_an_undated_feed_does_not_bury_the_dated_ones(clocked: tuple[Lenta, Clock]) -> None:
    lenta, clock = clocked
    feeds = Feeds()
    dated = [(f"dated{n}", T0 - n * HOUR) for n in range(1, 31)]  # hourly, up to an hour ago
    undated: list[tuple[str, datetime | None]] = [(f"undated{n}", None) for n in range(60)]
    feeds.bodies = {"/dated": rss(*dated, title="Dated"), "/undated": rss(*undated, title="Undated")}
    with LocalServer({"/dated": feeds.route("/dated"), "/undated": feeds.route("/undated")}) as server:
        dated_id = asyncio.run(lenta.add_feed(server.url("/dated"), discover=False)).id
        refresh(lenta, dated_id)
        clock.now = T0 + 2 * HOUR  # the undated feed is added later
        undated_id = asyncio.run(lenta.add_feed(server.url("/undated"), discover=False)).id
        refresh(lenta, undated_id)

        page = river(lenta)
        assert "dated1" in page  # the newest dated item is still on the first page
        assert sum(title.startswith("dated") for title in page) >= 20
        shown = [title for title in page if title.startswith("undated")]
        assert shown == [f"undated{n}" for n in range(len(shown))]  # in the document's order

        # Three hours on, the dated feed has published an item (an hour after the
        # undated feed's last check) and the undated one has two new items on top.
        clock.now = T0 + 5 * HOUR
        dated.insert(0, ("fresh", T0 + 3 * HOUR))
        undated[:0] = [("newer", None), ("new", None)]
        feeds.bodies = {"/dated": rss(*dated, title="Dated"), "/undated": rss(*undated, title="Undated")}
        refresh(lenta, dated_id, undated_id)
    page = river(lenta)
    assert page[:5] == ["fresh", "newer", "new", "undated0", "undated1"]
    by_title = {item.title: item for item in lenta.items_page(0, 200).items}
    assert by_title["newer"].date == by_title["new"].date == T0 + 2 * HOUR  # no newer than the previous check
    assert by_title["undated0"].date == T0 + 2 * HOUR


def test_undated_items_keep_their_order_and_their_dates(clocked: tuple[Lenta, Clock]) -> None:
    lenta, clock = clocked
    feeds = Feeds()
    undated: list[tuple[str, datetime | None]] = [(f"u{n}", None) for n in range(8)]
    feeds.bodies["/feed"] = rss(*undated, title="Undated")
    with LocalServer({"/feed": feeds.route("/feed")}) as server:
        feed_id = asyncio.run(lenta.add_feed(server.url("/feed"), discover=False)).id
        refresh(lenta, feed_id)
        first = {item.title: item.date for item in lenta.items_page(0, 50).items}
        assert river(lenta) == [f"u{n}" for n in range(8)]

        clock.now = T0 + 30 * HOUR  # the same items again, one of them edited
        feeds.bodies["/feed"] = rss(*undated, title="Undated").replace(b"<description>u3<", b"<description>u3, edited<")
        refresh(lenta, feed_id)
        assert {item.title: item.date for item in lenta.items_page(0, 50).items} == first
        assert [i.content for i in lenta.items_page(0, 50).items if i.title == "u3"] == ["u3, edited"]

        clock.now = T0 + 31 * HOUR  # one new item in the middle of the list, one at the end
        undated[4:4] = [("between", None)]
        undated.append(("last", None))
        feeds.bodies["/feed"] = rss(*undated, title="Undated")
        refresh(lenta, feed_id)
        assert river(lenta) == [title for title, _ in undated]
        now_dates = {item.title: item.date for item in lenta.items_page(0, 50).items}
        assert {title: now_dates[title] for title in first} == first

        clock.now = T0 + 32 * HOUR  # the feed starts dating one of them: its own date wins
        feeds.bodies["/feed"] = rss(*[(t, T0 - 99 * HOUR if t == "u0" else None) for t, _ in undated], title="Undated")
        refresh(lenta, feed_id)
    assert {item.title: item.date for item in lenta.items_page(0, 50).items}["u0"] == T0 - 99 * HOUR
