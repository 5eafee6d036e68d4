"""Every date dialect feeds use, in one place.

:func:`parse_date` reads RFC 822/1123 (RSS), ISO 8601 / RFC 3339 / W3C-DTF
(Atom, Dublin Core, JSON Feed) and the broken variants of both that real
feeds publish, and returns an aware UTC ``datetime`` — or None, never an
exception. A date outside the years :data:`~lenta.parse.model.MIN_YEAR` to
:data:`~lenta.parse.model.MAX_YEAR` (in UTC) is None too: "0001-01-01" and
"9999-12-31" are placeholders, not dates, and years near datetime's limits
overflow in any later arithmetic. Dates in the future within those years
are returned as they are; clamping them is a policy decision for
:mod:`lenta.update`.

The two common dialects have hand-written fast paths; dateutil handles the
long tail.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from datetime import tzinfo

from dateutil import parser as dateutil_parser

from lenta.parse.model import MAX_YEAR
from lenta.parse.model import MIN_YEAR

UTC = UTC

# Month names and abbreviations: English, plus the German, French, Spanish,
# Italian and Dutch forms localized RSS generators emit (seen: "Do, 05 Dez").
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january jän jänner janv janvier ene enero gen gennaio januari",
        "feb february februar fév févr février febrero febbraio februari",
        "mar march mär märz mars marzo mrt maart",
        "apr april avr avril abr abril aprile",
        "may mai mayo mag maggio mei",
        "jun june juni juin junio giu giugno",
        "jul july juli juil juillet julio lug luglio",
        "aug august aoû août ago agosto augustus",
        "sep sept september septembre septiembre set settembre",
        "oct october okt oktober octobre octubre ott ottobre",
        "nov november novembre noviembre",
        "dec december dez dezember déc décembre dic diciembre dicembre",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

# Zone abbreviations, in hours east of UTC. RFC 822 only defines the US ones;
# the rest are what feeds actually write. RFC 2822 says single-letter
# military zones are unreliable and must be read as UTC, which the default
# below does.
_ZONES: dict[str, float] = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6,
    "pst": -8, "pdt": -7, "akst": -9, "akdt": -8, "hst": -10,
    "ast": -4, "adt": -3, "nst": -3.5, "ndt": -2.5,
    "bst": 1, "west": 1, "cet": 1, "met": 1, "mez": 1,
    "cest": 2, "mest": 2, "mesz": 2, "eet": 2, "sast": 2,
    "eest": 3, "msk": 3, "ist": 5.5, "ict": 7, "wib": 7,
    "hkt": 8, "sgt": 8, "awst": 8, "pht": 8, "jst": 9, "kst": 9,
    "acst": 9.5, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}  # fmt: skip

_RFC822 = re.compile(
    r"""
    ^(?:[^\W\d_]+\.?,?\s*)?                     # weekday, any language, ignored
    (\d{1,2})[\s-]+([^\W\d_]+)\.?[\s,-]+(\d{2,4})  # day month year
    (?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?)?  # time
    \s*(?:([A-Za-z]{1,5})\b)?                   # zone name
    \s*(?:([+-])(\d{1,2}):?(\d{2})?)?           # numeric offset
    """,
    re.VERBOSE,
)

_W3CDTF = re.compile(
    r"""
    ^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})
    (?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?)?
    \s*(?:(Z|UTC|GMT)|([+-])(\d{1,2}):?(\d{2})?)?$
    """,
    re.VERBOSE | re.IGNORECASE,
)

_HAS_YEAR = re.compile(r"\d{4}")
# The longest real date is about 40 characters; anything much longer is
# not a date, and is not worth a regex or dateutil's time.
_MAX_LENGTH = 100


def parse_date(value: str | None) -> datetime | None:
    """``value`` as an aware UTC datetime, or None if it is not a date.

    Values without a zone are taken as UTC; date-only values as midnight.
    """
    if not value:
        return None
    value = value.strip()
    if not value or len(value) > _MAX_LENGTH:
        return None
    try:
        if value[:4].isdigit():
            parsed = _parse_iso(value)
        else:
            parsed = _parse_rfc822(value)
        if parsed is None:
            parsed = _parse_fallback(value)
        if parsed is None:
            return None
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None
    return parsed if MIN_YEAR <= parsed.year <= MAX_YEAR else None


def _parse_iso(value: str) -> datetime | None:
    try:
        # Handles RFC 3339 and most of ISO 8601 in C: 'Z', offsets with or
        # without a colon, any number of fractional digits, a space for 'T'.
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    match = _W3CDTF.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, utc, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    zone: tzinfo | None = None
    if utc:
        zone = UTC
    elif sign:
        zone = _offset(sign, off_h, off_m)
    return datetime(
        int(year),
        int(month or 1),
        int(day or 1),
        int(hour or 0),
        int(minute or 0),
        min(int(second or 0), 59),  # a leap second is a second too far for datetime
        micro,
        tzinfo=zone,
    )


def _parse_rfc822(value: str) -> datetime | None:
    match = _RFC822.match(value)
    if match is None:
        return None
    day, month_name, year_text, hour, minute, second, zone_name, sign, off_h, off_m = match.groups()
    month = _month(month_name)
    if month is None:
        return None
    year = int(year_text)
    if len(year_text) == 2:
        # RFC 2822 section 4.3: 00-49 are 2000-2049, 50-99 are 1950-1999.
        year += 2000 if year < 50 else 1900
    elif len(year_text) == 3:
        # JavaScript's getYear(): years since 1900 ("119" is 2019).
        year += 1900
    zone: tzinfo
    if sign:
        zone = _offset(sign, off_h, off_m)
    elif zone_name:
        hours = _ZONES.get(zone_name.lower(), 0)
        zone = UTC if hours == 0 else timezone(timedelta(hours=hours))
    else:
        zone = UTC
    return datetime(
        year,
        month,
        int(day),
        int(hour or 0),
        int(minute or 0),
        min(int(second or 0), 59),
        tzinfo=zone,
    )


def _month(name: str) -> int | None:
    key = name.lower()
    return _MONTHS.get(key) or _MONTHS.get(key[:4]) or _MONTHS.get(key[:3])


@functools.lru_cache(maxsize=256)
def _offset(sign: str, hours: str, minutes: str | None) -> timezone:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24):
        raise ValueError("offset out of range")
    return timezone(-delta if sign == "-" else delta)


def _tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
    # Given to dateutil so it never guesses from the machine's local zone
    # and never warns about a zone name it does not know.
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name:
        hours = _ZONES.get(name.lower(), 0)
        return timezone(timedelta(hours=hours))
    return None


_DEFAULT = datetime(2000, 1, 1)


def _parse_fallback(value: str) -> datetime | None:
    """dateutil for the long tail ("2019/7/08 10:00:00", asctime, month
    first). Only tried when a four-digit year is present: dateutil happily
    reads a bare "5" as the 5th of the current month."""
    if _HAS_YEAR.search(value) is None:
        return None
    try:
        return dateutil_parser.parse(value, default=_DEFAULT, tzinfos=_tzinfos)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
