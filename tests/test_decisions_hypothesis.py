"""The schedule and store decisions take anything a server or a feed can
send: whatever the header values and feed fields, they raise nothing but
lenta's own errors and every result is within its bounds."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.fetch import FetchResult
from lenta.fetch import Validators
from lenta.fetch.http import retry_after_seconds
from lenta.parse.model import ParsedFeed
from lenta.types import Feed
from lenta.update import schedule
from lenta.update.process import Processed
from lenta.update.store import MAX_ERROR_LENGTH
from lenta.update.store import MAX_STATUS
from lenta.update.store import StoreContext
from lenta.update.store import changes_after_body
from lenta.update.store import changes_after_error
from lenta.websub.decide import MAX_RETRY
from lenta.websub.decide import retry_delay

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
# The longest any decision may put a check off: Drupal's longest refresh
# choice with its jitter, then skipHours/skipDays moving it up to 8 days on.
LATEST = NOW + timedelta(weeks=4) * 1.05 + timedelta(days=8)

huge_ints = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 2**64, 10**20, 99999999999999999999]),
)
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), huge_ints.map(float))
maybe_int = st.none() | huge_ints
number_text = st.one_of(
    huge_ints.map(str),
    floats.map(repr),
    st.sampled_from(["99999999999999999999", "-5", "1e400", "0x10", "٣", "   7 ", "9" * 5000, "", "nan", "inf"]),
    st.text(max_size=40),
)
http_dates = st.one_of(
    st.sampled_from(
        [
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "Sat, 01 Jan 99999 00:00:00 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Tue, 32 Foo 2020 99:99:99 +9999",
        ]
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")
    ),
    st.text(max_size=40),
)
header_values = st.one_of(number_text, http_dates)
cache_controls = st.one_of(
    st.builds(lambda name, value: f"{name}={value}", st.sampled_from(["max-age", "s-maxage", "MAX-AGE"]), number_text),
    st.lists(
        st.sampled_from(
            [
                "max-age=5",
                "s-maxage=99999999999999999999",
                "no-cache",
                "public",
                "max-age=-1",
                "max-age=" + "9" * 5000,
                'max-age="60"',
            ]
        ),
        max_size=5,
    ).map(", ".join),
    st.text(max_size=60),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "cache-control": cache_controls,
        "expires": header_values,
        "date": header_values,
        "retry-after": header_values,
    },
)
hour_sets = st.frozensets(huge_ints, max_size=30)
day_sets = st.frozensets(st.one_of(st.sampled_from(list(schedule.DAYS)), st.text(max_size=12)), max_size=10)
hints = st.builds(
    schedule.Hints,
    ttl_minutes=maybe_int,
    update_period=st.none() | st.sampled_from(["hourly", "daily", "weekly", "monthly", "yearly", "", "x"]),
    update_frequency=maybe_int,
    skip_hours=hour_sets,
    skip_days=day_sets,
    cache_seconds=st.none() | floats,
)


def feeds() -> st.SearchStrategy[Feed]:
    return st.builds(
        Feed,
        id=st.integers(1, 10**6),
        url=st.just("https://example.com/feed"),
        title=st.just("t"),
        custom_title=st.none(),
        feed_title=st.none(),
        site_url=st.none(),
        description=st.none(),
        image_url=st.none(),
        format=st.none(),
        refresh=st.none() | st.sampled_from([0, 900, 2419200]) | huge_ints,
        created_at=st.just(NOW),
        checked_at=st.none(),
        next_check_at=st.none(),
        modified_at=st.none(),
        http_status=st.none(),
        error=st.none(),
        error_kind=st.none(),
        error_count=st.integers(0, 10**9),
        etag=st.none(),
        last_modified=st.none(),
        hub_url=st.none(),
        gone=st.booleans(),
        pending_url=st.none(),
        publish_interval=st.none() | floats,
        ttl_minutes=maybe_int,
        update_period=st.none() | st.sampled_from(["hourly", "daily", "weekly"]),
        update_frequency=maybe_int,
        skip_hours=hour_sets,
        skip_days=day_sets,
    )


def assert_next_check_in_bounds(value: object, refresh: int | None) -> None:
    if refresh == 0:
        assert value is None
        return
    assert isinstance(value, datetime)
    assert NOW < value <= LATEST, value - NOW


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(header=header_values)
def test_retry_after_is_within_a_week_or_nothing(header: str) -> None:
    seconds = retry_after_seconds(header, NOW)
    assert seconds is None or 0.0 <= seconds <= 7 * 86400


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(values=headers)
def test_cache_lifetime_is_within_the_hint_cap_or_nothing(values: dict[str, str]) -> None:
    seconds = schedule.cache_seconds(values, NOW)
    assert seconds is None or 0.0 <= seconds <= schedule.MAX_HINT.total_seconds()


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    refresh=st.none() | huge_ints,
    publish_interval=st.none() | floats,
    error_count=st.integers(0, 10**12),
    retry_after=st.none() | floats,
    polling=hints,
    pushed=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_next_check_is_never_past_four_weeks_and_a_skip(
    refresh: int | None,
    publish_interval: float | None,
    error_count: int,
    retry_after: float | None,
    polling: schedule.Hints,
    pushed: bool,
    seed: int,
) -> None:
    at = schedule.next_check_at(
        NOW,
        refresh=refresh,
        publish_interval=publish_interval,
        error_count=error_count,
        retry_after=retry_after,
        hints=polling,
        pushed=pushed,
        rng=random.Random(seed),
    )
    assert_next_check_in_bounds(at, refresh)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    dates=st.lists(
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)), max_size=25
    ),
    previous=st.none() | floats,
)
def test_publish_interval_estimate_never_raises(dates: list[datetime], previous: float | None) -> None:
    estimate = schedule.estimate_publish_interval(dates, previous)
    # Whatever it is, the schedule reads it within its bounds.
    assert_next_check_in_bounds(schedule.next_check_at(NOW, refresh=None, publish_interval=estimate), None)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    feed=feeds(),
    status=st.none() | huge_ints,
    retry_after=st.none() | floats,
    message=st.text(max_size=5000),
    kind=st.sampled_from(list(FetchErrorKind)),
    pushed=st.booleans(),
)
def test_an_error_changes_the_feed_within_bounds(
    feed: Feed, status: int | None, retry_after: float | None, message: str, kind: FetchErrorKind, pushed: bool
) -> None:
    error = FetchError(message, kind=kind, status=status, retry_after=retry_after)
    changes = changes_after_error(feed, error, NOW, hub_pushes=pushed)
    text = changes.error
    assert isinstance(text, str) and len(text) <= MAX_ERROR_LENGTH and "\x00" not in text
    text.encode("utf-8")  # no lone surrogates
    stored_status = changes.http_status
    assert stored_status is None or (isinstance(stored_status, int) and 0 <= stored_status <= MAX_STATUS)
    assert changes.error_count == feed.error_count + 1
    if kind == FetchErrorKind.GONE:
        assert changes.next_check_at is None
    else:
        assert_next_check_in_bounds(changes.next_check_at, feed.refresh)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    feed=feeds(),
    response_headers=headers,
    polling=hints,
    status=st.sampled_from([200, 203, 226, 304]),
)
def test_a_body_changes_the_feed_within_bounds(
    feed: Feed, response_headers: dict[str, str], polling: schedule.Hints, status: int
) -> None:
    parsed = ParsedFeed(
        format="rss",
        ttl_minutes=polling.ttl_minutes,
        update_period=polling.update_period,
        update_frequency=polling.update_frequency,
        skip_hours=polling.skip_hours,
        skip_days=polling.skip_days,
    )
    result = FetchResult(url=feed.url, status=status, body=b"", headers=response_headers, validators=Validators("etag", None))
    context = StoreContext(allowed_tags=frozenset(), max_bytes=1, discard_after=0, now=NOW)
    changes = changes_after_body(feed, result, Processed(parsed, ()), context, lambda url: False)
    assert_next_check_in_bounds(changes.next_check_at, feed.refresh)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(attempts=huge_ints, retry_after=st.none() | floats)
def test_websub_retry_delay_is_capped(attempts: int, retry_after: float | None) -> None:
    assert timedelta(0) < retry_delay(attempts, retry_after) <= MAX_RETRY
