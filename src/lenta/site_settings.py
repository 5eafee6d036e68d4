"""Site settings: what an admin changes on the settings page, kept in the
database (unlike deployment settings in :mod:`lenta.config`).

Like Drupal's aggregator settings: allowed HTML tags, discard items older
than, items shown per source on /aggregator/sources; the site's time
zone (Drupal's "default time zone"), which pages show times in; and whether
visitors may register accounts of their own (off unless the admin opens it).
"""

from __future__ import annotations

import functools
import os
import zoneinfo
from dataclasses import dataclass
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from lenta.exceptions import InvalidInputError
from lenta.parse.sanitize import DEFAULT_ALLOWED_TAGS
from lenta.parse.sanitize import parse_allowed_tags
from lenta.types import User

if TYPE_CHECKING:
    from lenta.user_settings import UserSettings

# Drupal's "Discard items older than" choices, in seconds; 0 = never.
DISCARD_CHOICES: tuple[int, ...] = (
    0,
    3600,
    10800,
    21600,
    32400,
    43200,
    86400,
    172800,
    259200,
    604800,
    1209600,
    2419200,
    4838400,
    7257600,
    15724800,
    31536000,
)
SOURCE_ITEMS_CHOICES: tuple[int, ...] = (0, 3, 5, 10, 15, 20, 25)
# Drupal 7's "Length of trimmed description" choices, in characters of
# text; 0 shows items whole (lenta's default: the pages read like the feeds).
TEASER_CHOICES: tuple[int, ...] = (0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000)
# At most this many items of one feed shown together on the river and the
# category pages, the rest folded into a line (lenta.web.river); 0: no limit.
RIVER_FEED_ITEMS_CHOICES: tuple[int, ...] = (0, 1, 2, 3, 5, 10)
ITEMS_PER_PAGE = 20
DEFAULT_ITEMS_PER_FETCH = 1000
MAX_ITEMS_PER_FETCH = 100_000
SERVER_ZONE = ""  # the time_zone value that means "whatever zone the server is in"
_ZONEINFO_DIRS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")
# Files of a system's zoneinfo directory that zoneinfo lists but that are no
# zone: the server's own link, the POSIX default rules, and "Factory" (zone "-00").
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted (the admin's choices)."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_ZONES))


@functools.cache
def _zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def valid_time_zone(name: str) -> bool:
    # A name from the list only: ZoneInfo would also open any file under the
    # zoneinfo directory, and those three.
    return name in _zone_set()


def server_time_zone(environ: dict[str, str] | None = None, localtime: Path = Path("/etc/localtime")) -> str:
    """The zone the server runs in: ``TZ`` if it names a zone, else what
    /etc/localtime links to (or /etc/timezone says), else UTC."""
    environ = dict(os.environ) if environ is None else environ
    names = [environ.get("TZ", "").removeprefix(":")]
    try:
        target = str(localtime.resolve(strict=True))
        names += [target[len(prefix) :] for prefix in _ZONEINFO_DIRS if target.startswith(prefix)]
    except (OSError, RuntimeError):
        pass
    try:
        names.append(localtime.with_name("timezone").read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        pass
    return next((name for name in names if valid_time_zone(name)), "UTC")


@functools.cache
def _server_zone() -> zoneinfo.ZoneInfo:
    # Read once a process: the zone of a running server does not change under it.
    return zoneinfo.ZoneInfo(server_time_zone())


@dataclass(frozen=True, slots=True)
class SiteSettings:
    allowed_html: str = DEFAULT_ALLOWED_TAGS
    discard_after: int = 0  # seconds; 0 = never
    source_items: int = 3
    site_name: str = "lenta"
    items_per_fetch: int = DEFAULT_ITEMS_PER_FETCH  # at most this many items stored from one fetch, newest kept
    teaser_length: int = 0  # items on the river, source and category pages trimmed to this (0: whole)
    time_zone: str = SERVER_ZONE  # an IANA name; SERVER_ZONE follows the server's own zone
    river_feed_items: int = 0  # items of one feed shown together on the river and category pages (0: all)
    open_registration: bool = False  # visitors may make ordinary accounts at /user/register

    @property
    def allowed_tags(self) -> frozenset[str]:
        return parse_allowed_tags(self.allowed_html)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The site's time zone (the server's, unless the admin chose one)."""
        return zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else _server_zone()

    def to_strings(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> SiteSettings:
        """Build from stored/submitted text, validating every value."""
        defaults = cls()
        try:
            discard = int(values.get("discard_after", defaults.discard_after))
            source_items = int(values.get("source_items", defaults.source_items))
            items_per_fetch = int(values.get("items_per_fetch", defaults.items_per_fetch))
            teaser_length = int(values.get("teaser_length", defaults.teaser_length))
            river_feed_items = int(values.get("river_feed_items", defaults.river_feed_items))
        except ValueError:
            raise InvalidInputError("Settings must be whole numbers.") from None
        if discard not in DISCARD_CHOICES:
            raise InvalidInputError("Unsupported value for discard items older than: {value}", value=discard)
        if source_items not in SOURCE_ITEMS_CHOICES:
            raise InvalidInputError("Unsupported number of items per source: {value}", value=source_items)
        if teaser_length not in TEASER_CHOICES:
            raise InvalidInputError("Unsupported length of trimmed items: {value}", value=teaser_length)
        if river_feed_items not in RIVER_FEED_ITEMS_CHOICES:
            raise InvalidInputError("Unsupported number of items of one feed on a page: {value}", value=river_feed_items)
        if not 1 <= items_per_fetch <= MAX_ITEMS_PER_FETCH:
            raise InvalidInputError("Items stored per fetch must be between 1 and {n}.", n=MAX_ITEMS_PER_FETCH)
        allowed_html = values.get("allowed_html", defaults.allowed_html).strip()
        parse_allowed_tags(allowed_html)  # raises InvalidInputError on junk
        site_name = values.get("site_name", defaults.site_name).strip() or defaults.site_name
        time_zone = values.get("time_zone", defaults.time_zone).strip()
        if time_zone != SERVER_ZONE and not valid_time_zone(time_zone):
            raise InvalidInputError("Unknown time zone: {value}", value=time_zone)
        open_registration = str(values.get("open_registration", defaults.open_registration)).strip().lower()
        if open_registration not in {"true", "false", "1", "0", "yes", "no", ""}:
            raise InvalidInputError("{value} is not yes or no.", value=open_registration)
        return cls(
            allowed_html=allowed_html,
            discard_after=discard,
            source_items=source_items,
            site_name=site_name,
            items_per_fetch=items_per_fetch,
            teaser_length=teaser_length,
            time_zone=time_zone,
            river_feed_items=river_feed_items,
            open_registration=open_registration in {"true", "1", "yes"},
        )


def zone_for(user: User | None, site: SiteSettings, own: UserSettings | None = None) -> zoneinfo.ZoneInfo:
    """The zone ``user`` (the request's, or None) sees times in: the one in
    their settings (``own``), else the site's. Every page follows it (the
    templates ask only this)."""
    zone = own.zone if user is not None and own is not None else None
    return zone or site.zone
