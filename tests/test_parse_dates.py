"""Every date dialect feeds use; parse_date never raises."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from lenta.parse.dates import parse_date
from lenta.parse.model import MAX_YEAR
from lenta.parse.model import MIN_YEAR


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 822 / 1123, as RSS wants them
        ("Sat, 07 Sep 2002 00:00:01 GMT", utc(2002, 9, 7, 0, 0, 1)),
        ("Sat, 07 Sep 2002 00:00:01 +0200", utc(2002, 9, 6, 22, 0, 1)),
        ("Sat, 07 Sep 2002 00:00:01 -0000", utc(2002, 9, 7, 0, 0, 1)),
        # obsolete US zones
        ("Wed, 9 Nov 2016 10:00:00  EST", utc(2016, 11, 9, 15, 0)),
        ("Tue, 10 Jun 2003 04:00:00 PDT", utc(2003, 6, 10, 11, 0)),
        ("Tue, 21 Jul 2015 10:30:00 CEST", utc(2015, 7, 21, 8, 30)),
        # unknown zone name: taken as UTC
        ("Tue, 10 Jun 2003 04:00:00 XYZ", utc(2003, 6, 10, 4, 0)),
        # missing seconds, weekday, both; single-digit day
        ("Tue, 10 Jun 2003 04:00 GMT", utc(2003, 6, 10, 4, 0)),
        ("10 Jun 2003 04:00:00 +0000", utc(2003, 6, 10, 4, 0)),
        ("5 Jun 2003 04:00 +0000", utc(2003, 6, 5, 4, 0)),
        # wrong weekday: the date wins
        ("Mon, 10 Jun 2003 04:00:00 GMT", utc(2003, 6, 10, 4, 0)),
        # two-digit years (RFC 2822 4.3)
        ("Tue, 10 Jun 03 04:00:00 GMT", utc(2003, 6, 10, 4, 0)),
        ("Thu, 10 Jun 99 04:00:00 GMT", utc(1999, 6, 10, 4, 0)),
        # date only, full month name, GMT+offset, trailing comment
        ("10 June 2003", utc(2003, 6, 10)),
        ("Thu, 01 Jan 1970 00:00:00 GMT+0200", utc(1969, 12, 31, 22, 0)),
        ("Mon, 08 Jul 2019 10:00:00 +0000 (UTC)", utc(2019, 7, 8, 10, 0)),
        # localized month and weekday names (German, French)
        ("Do, 05 Dez 2019 10:00:00 +0100", utc(2019, 12, 5, 9, 0)),
        ("mer., 12 févr. 2020 08:00:00 +0000", utc(2020, 2, 12, 8, 0)),
        # ISO 8601 / RFC 3339 / W3C-DTF
        ("2003-12-13T18:30:02Z", utc(2003, 12, 13, 18, 30, 2)),
        ("2003-12-13T18:30:02.25Z", utc(2003, 12, 13, 18, 30, 2, 250000)),
        ("2003-12-13T18:30:02.123456789+01:00", utc(2003, 12, 13, 17, 30, 2, 123456)),
        ("2003-12-13T18:30:02-05:00", utc(2003, 12, 13, 23, 30, 2)),
        ("2003-12-13T18:30:02+0530", utc(2003, 12, 13, 13, 0, 2)),
        ("2003-12-13T18:30:02", utc(2003, 12, 13, 18, 30, 2)),
        ("2003-12-13 18:30", utc(2003, 12, 13, 18, 30)),
        ("2003-12-13T18:30:02 +01:00", utc(2003, 12, 13, 17, 30, 2)),
        ("2003-12-13", utc(2003, 12, 13)),
        ("2003-12", utc(2003, 12, 1)),
        ("2003", utc(2003, 1, 1)),
        ("20031213T183002Z", utc(2003, 12, 13, 18, 30, 2)),
        # broken forms seen in real feeds
        ("2020/1/10 14:33:00", utc(2020, 1, 10, 14, 33)),
        ("Sun Jan  6 13:52:44 2019", utc(2019, 1, 6, 13, 52, 44)),
        ("January 5, 2019", utc(2019, 1, 5)),
        ("  Sat, 07 Sep 2002 00:00:01 GMT\n", utc(2002, 9, 7, 0, 0, 1)),
        ("2003-12-13T18:30:60Z", utc(2003, 12, 13, 18, 30, 59)),
    ],
)
def test_parses(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "now",
        "yesterday at noon",
        "5",
        "Fri, 31 Feb 2019 10:00:00 GMT",
        "Mon, 5 Aug 2019 25:00:00 GMT",
        "2019-13-45",
        "9999-12-31T23:59:59-05:00",
        "0000-01-01",
        "Sat, 07 Sep 2002 00:00:01 +9999",
        "\x00\ufffd",
        "1" * 5000,
    ],
)
def test_garbage_is_none_never_an_exception(value: str | None) -> None:
    assert parse_date(value) is None


def test_future_dates_are_not_clamped() -> None:
    assert parse_date("2150-01-01T00:00:00Z") == utc(2150, 1, 1)


@pytest.mark.parametrize(
    "value",
    [
        "1899-12-31T23:59:59Z",
        "1900-01-01T04:59:59+05:00",  # 1899 in UTC
        "2200-01-01T00:00:00Z",
        "2199-12-31T23:00:00-05:00",  # 2200 in UTC
        "2999-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "99999-01-01",
        "Sat, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 1800 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "Sat, 07 Sep 2002 00:00:01 +99:99",
        "December 31, 9999 11:59 PM",
        "1/1/99999999999999999999",
        "2019-01-01T00:00:00+99999999999999999999",
    ],
)
def test_dates_outside_the_years_are_absent(value: str) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1900-01-01T00:00:00Z", utc(MIN_YEAR, 1, 1)),
        ("1899-12-31T20:00:00-04:00", utc(MIN_YEAR, 1, 1)),
        ("2199-12-31T23:59:59Z", utc(MAX_YEAR, 12, 31, 23, 59, 59)),
        ("Sat, 01 Jan 2200 04:00:00 +0500", utc(MAX_YEAR, 12, 31, 23)),
    ],
)
def test_dates_at_the_edges_are_kept(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC
