"""When feeds are checked next: every input, and its clamping."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from lenta.update import schedule
from lenta.update.schedule import Hints

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 12:00 GMT


def wait(**kwargs: object) -> timedelta | None:
    """The wait before the next check, with jitter switched off."""
    rng = random.Random(0)
    rng.uniform = lambda a, b: 1.0  # type: ignore[method-assign]
    at = schedule.next_check_at(NOW, rng=rng, **kwargs)  # type: ignore[arg-type]
    return None if at is None else at - NOW


@pytest.mark.parametrize(
    ("refresh", "publish_interval", "expected"),
    [
        (0, None, None),  # never
        (900, None, timedelta(minutes=15)),  # Drupal's shortest choice
        (2419200, None, timedelta(weeks=4)),  # and its longest, kept as the admin chose
        (None, None, timedelta(hours=1)),  # adaptive, nothing known yet
        (None, 60.0, timedelta(minutes=15)),  # publishes every minute: clamped up
        (None, 7200.0, timedelta(hours=2)),
        (None, 30 * 86400.0, timedelta(days=1)),  # publishes monthly: clamped down
    ],
)
def test_refresh_setting_and_adaptive_interval(
    refresh: int | None, publish_interval: float | None, expected: timedelta | None
) -> None:
    assert wait(refresh=refresh, publish_interval=publish_interval) == expected


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        (Hints(ttl_minutes=180), timedelta(hours=3)),
        (Hints(ttl_minutes=5), timedelta(hours=1)),  # shorter than our interval: no effect
        (Hints(ttl_minutes=60 * 24 * 365), timedelta(days=1)),  # a year: clamped to a day
        (Hints(ttl_minutes=-5), timedelta(hours=1)),
        (Hints(update_period="daily", update_frequency=2), timedelta(hours=12)),
        (Hints(update_period="hourly", update_frequency=1), timedelta(hours=1)),
        (Hints(update_period="weekly"), timedelta(days=1)),  # clamped
        (Hints(update_period="fortnightly", update_frequency=1), timedelta(hours=1)),  # unknown: ignored
        (Hints(update_period="daily", update_frequency=0), timedelta(days=1)),  # frequency 0 means 1
        (Hints(cache_seconds=7200), timedelta(hours=2)),
        (Hints(cache_seconds=10 * 86400), timedelta(days=1)),
    ],
)
def test_feed_and_server_hints_set_a_floor_for_adaptive_feeds(hints: Hints, expected: timedelta) -> None:
    assert wait(refresh=None, hints=hints) == expected


def test_hints_do_not_override_the_admins_refresh_setting() -> None:
    assert wait(refresh=900, hints=Hints(ttl_minutes=600)) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=3600"}, 3600.0),
        ({"cache-control": "max-age=60, s-maxage=600"}, 600.0),
        ({"cache-control": 'max-age="120"'}, 120.0),
        ({"cache-control": "no-cache, max-age=3600"}, None),
        ({"cache-control": "no-store"}, None),
        ({"expires": "Mon, 02 Mar 2026 14:00:00 GMT", "date": "Mon, 02 Mar 2026 12:00:00 GMT"}, 7200.0),
        ({"expires": "Mon, 02 Mar 2026 13:30:00 GMT"}, 5400.0),  # no Date: against our clock
        ({"expires": "Mon, 02 Mar 2026 14:00:00 GMT", "date": "Mon, 02 Mar 2026 13:00:00 GMT"}, 3600.0),
        ({"expires": "0"}, None),
        ({"expires": "Sun, 01 Mar 2026 00:00:00 GMT"}, 0.0),  # already expired
        ({}, None),
    ],
)
def test_cache_lifetime_from_headers(headers: dict[str, str], expected: float | None) -> None:
    assert schedule.cache_seconds(headers, NOW) == expected


def test_skip_hours_move_the_check_to_the_next_allowed_hour() -> None:
    # 12:00 + 1 h = 13:00, but 13, 14 and 15 GMT are skipped.
    assert wait(refresh=3600, hints=Hints(skip_hours=frozenset({13, 14, 15}))) == timedelta(hours=4)


def test_skip_days_move_the_check_to_the_next_allowed_day() -> None:
    # Monday 12:00 + 1 day = Tuesday 12:00; Tuesday and Wednesday are skipped.
    assert wait(refresh=86400, hints=Hints(skip_days=frozenset({"Tuesday", "Wednesday"}))) == timedelta(days=2, hours=12)


def test_skipping_every_hour_is_ignored() -> None:
    assert wait(refresh=3600, hints=Hints(skip_hours=frozenset(range(24)))) == timedelta(hours=1)
    assert wait(refresh=3600, hints=Hints(skip_hours=frozenset({99}), skip_days=frozenset({"Caturday"}))) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (7200.0, timedelta(hours=2)),
        (60.0, timedelta(minutes=15)),  # shorter than the backoff: backoff wins
        (10 * 86400.0, timedelta(days=1)),  # clamped
    ],
)
def test_retry_after_on_429_and_503(retry_after: float, expected: timedelta) -> None:
    assert wait(refresh=None, error_count=1, retry_after=retry_after) == expected


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        (1, timedelta(minutes=15)),
        (2, timedelta(minutes=30)),
        (3, timedelta(hours=1)),
        (5, timedelta(hours=4)),
        (7, timedelta(hours=16)),
        (8, timedelta(days=1)),
        (50, timedelta(days=1)),
    ],
)
def test_backoff_doubles_and_is_capped_at_a_day_but_never_stops(errors: int, expected: timedelta) -> None:
    assert wait(refresh=None, error_count=errors) == expected


def test_backoff_has_jitter() -> None:
    rng = random.Random(7)
    waits = {schedule.next_check_at(NOW, refresh=None, error_count=3, rng=rng) for _ in range(20)}
    assert len(waits) > 10
    assert all(timedelta(minutes=48) <= w - NOW <= timedelta(minutes=72) for w in waits)  # type: ignore[operator]


def test_backoff_keeps_a_longer_admin_interval() -> None:
    assert wait(refresh=604800, error_count=1) == timedelta(weeks=1)


def test_pushed_feeds_are_polled_more_slowly() -> None:
    assert wait(refresh=None, pushed=True) == timedelta(hours=6)
    assert wait(refresh=900, pushed=True) == timedelta(hours=6)
    assert wait(refresh=604800, pushed=True) == timedelta(weeks=1)


def test_regular_intervals_have_a_little_jitter() -> None:
    rng = random.Random(3)
    waits = [schedule.next_check_at(NOW, refresh=3600, rng=rng) - NOW for _ in range(50)]  # type: ignore[operator]
    assert min(waits) >= timedelta(minutes=57) and max(waits) <= timedelta(minutes=63)
    assert len(set(waits)) > 10
