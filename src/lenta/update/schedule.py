"""When to check a feed next: a pure function of the feed's settings, what
its last response and body said, its error streak and the clock.

Inputs, each clamped to sane bounds:

- the admin's refresh setting (Drupal's choices, 15 min … 4 weeks; 0 =
  never), or by default an **adaptive** interval from how often the feed
  publishes, clamped to 15 min … 1 day;
- for adaptive feeds, floors from the feed and the server: RSS ``ttl``,
  ``sy:updatePeriod``/``sy:updateFrequency``, ``Cache-Control: max-age``,
  ``Expires`` (each at most 1 day — a feed cannot ask to be left alone for a
  month);
- ``skipHours``/``skipDays`` (GMT): a check that would fall in a skipped hour
  or day moves to the next allowed hour, for any feed;
- ``Retry-After`` on 429/503 (seconds or an HTTP date, parsed by the
  fetcher), at most 1 day;
- errors: exponential backoff with jitter from 15 minutes, capped at 1 day
  and never giving up (the error stays visible on the feed);
- WebSub: a feed the hub pushes is still polled, at a slower rate (at least
  6 hours), as a safety net.

``410 Gone`` is not here: the pipeline marks the feed gone and stops.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.utils import parsedate_to_datetime

from lenta._bounds import clamp_number
from lenta._bounds import duration

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=1)
DEFAULT_INTERVAL = timedelta(hours=1)
MAX_BACKOFF = timedelta(days=1)
MAX_HINT = timedelta(days=1)
PUSHED_MIN_INTERVAL = timedelta(hours=6)
MAX_REFRESH = timedelta(weeks=4)  # the longest of Drupal's refresh choices
JITTER = 0.05  # ±5% on regular intervals, so feeds added together spread out
_RNG = random.Random()  # seeding a new one per call reads the OS's entropy every time

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}
_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE | re.ASCII)
_MAX_AGE_DIGITS = 9  # more than 31 years: past any cap, so longer strings are not converted at all


@dataclass(frozen=True, slots=True)
class Hints:
    """What the feed body and the HTTP response say about polling."""

    ttl_minutes: int | None = None
    update_period: str | None = None
    update_frequency: int | None = None
    skip_hours: frozenset[int] = frozenset()
    skip_days: frozenset[str] = frozenset()
    cache_seconds: float | None = None  # from Cache-Control max-age / Expires


def clamp(value: timedelta, low: timedelta = MIN_INTERVAL, high: timedelta = MAX_INTERVAL) -> timedelta:
    return max(low, min(high, value))


def cache_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """Freshness lifetime the server gave: ``max-age`` (``s-maxage`` wins,
    ``no-cache``/``no-store`` mean none), else ``Expires`` − ``Date``;
    at most :data:`MAX_HINT`, whatever the headers say."""
    control = headers.get("cache-control", "")
    if not control and "expires" not in headers:
        return None
    lowered = control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return None
    ages = {name.lower(): value for name, value in _MAX_AGE.findall(control)}
    if ages:
        # A digit string of any length: clamped as text is read, before int() or float() meet it.
        raw = ages.get("s-maxage", ages.get("max-age", "0")).lstrip("0") or "0"
        seconds = float(int(raw)) if len(raw) <= _MAX_AGE_DIGITS else MAX_HINT.total_seconds()
        return min(seconds, MAX_HINT.total_seconds())
    expires = headers.get("expires")
    if not expires:
        return None
    expires_at = _http_date(expires)
    if expires_at is None:
        return None
    server_now = _http_date(headers.get("date"))
    reference = server_now or now  # measure against the server's clock, not ours
    return clamp_number((expires_at - reference).total_seconds(), 0.0, MAX_HINT.total_seconds())


def _http_date(value: str | None) -> datetime | None:
    """An aware datetime from an HTTP date header, or None for junk (any
    year datetime cannot hold included)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def hint_floor(hints: Hints) -> timedelta:
    """The longest wait the feed or server asked for, at most :data:`MAX_HINT`."""
    floor = timedelta(0)
    if hints.ttl_minutes and hints.ttl_minutes > 0:
        floor = max(floor, duration(hints.ttl_minutes * 60, MAX_HINT) or floor)
    period = _PERIODS.get((hints.update_period or "").strip().lower())
    if period is not None:
        frequency = hints.update_frequency if hints.update_frequency and hints.update_frequency > 0 else 1
        floor = max(floor, duration(period / frequency, MAX_HINT) or floor)
    if hints.cache_seconds:
        floor = max(floor, duration(hints.cache_seconds, MAX_HINT) or floor)
    return min(floor, MAX_HINT)


def regular_interval(refresh: int | None, publish_interval: float | None) -> timedelta | None:
    """The interval between checks of a healthy feed; None means never."""
    if refresh == 0:
        return None
    if refresh is not None:
        return duration(refresh, MAX_REFRESH, MIN_INTERVAL)
    if publish_interval is None:
        return DEFAULT_INTERVAL
    return duration(publish_interval, MAX_INTERVAL, MIN_INTERVAL) or DEFAULT_INTERVAL


def backoff(error_count: int, rng: random.Random) -> timedelta:
    """15 min, 30 min, 1 h, 2 h … with ±20% jitter, capped at a day."""
    factor: int = 2 ** max(0, min(error_count - 1, 16))  # int ** int is typed Any
    base = MIN_INTERVAL * factor
    return min(base * rng.uniform(0.8, 1.2), MAX_BACKOFF)


def skip_forward(when: datetime, hints: Hints) -> datetime:
    """The first whole hour at or after ``when`` that is not skipped (GMT).

    A feed that skips every hour of the week is ignored rather than obeyed.
    """
    hours = {h for h in hints.skip_hours if 0 <= h <= 23}
    days = {d.strip().capitalize() for d in hints.skip_days} & set(DAYS)
    if not hours and not days:
        return when
    if len(hours) == 24 or len(days) == 7:
        return when
    candidate = when
    for _ in range(24 * 8):
        if candidate.hour not in hours and DAYS[candidate.weekday()] not in days:
            return candidate
        candidate = (candidate + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return when


def next_check_at(
    now: datetime,
    *,
    refresh: int | None,
    publish_interval: float | None = None,
    error_count: int = 0,
    retry_after: float | None = None,
    hints: Hints = Hints(),
    pushed: bool = False,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to check next; None when the admin set the feed to never refresh."""
    rng = rng or _RNG
    interval = regular_interval(refresh, publish_interval)
    if interval is None:
        return None
    if refresh is None:
        interval = clamp(max(interval, hint_floor(hints)))
    if pushed:
        interval = max(interval, PUSHED_MIN_INTERVAL)
    interval = interval * rng.uniform(1 - JITTER, 1 + JITTER)
    if error_count > 0:
        # An admin's long interval is kept; backoff only ever waits longer.
        interval = max(backoff(error_count, rng), interval if refresh is not None else timedelta(0))
    wait = duration(retry_after, MAX_BACKOFF)
    if wait is not None:
        interval = max(interval, wait)
    return skip_forward(now + interval, hints)


def estimate_publish_interval(dates: Iterable[datetime], previous: float | None) -> float | None:
    """Mean seconds between the newest items' dates, smoothed with the
    previous estimate; None when there are too few dated items."""
    ordered = sorted(set(dates), reverse=True)[:20]
    if len(ordered) < 2:
        return previous
    span = (ordered[0] - ordered[-1]).total_seconds()
    estimate = span / (len(ordered) - 1)
    if previous is None:
        return estimate
    return 0.5 * previous + 0.5 * estimate
