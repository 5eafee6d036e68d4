"""A user's own settings, kept in the database (``user_settings``: name →
text, as the site's): the UI language, the time zone times are shown in,
the colour theme, and how the reader lists items.

An empty language or time zone follows the browser (Accept-Language) or
the site (:attr:`lenta.site_settings.SiteSettings.zone`). Names starting
with ``_`` are lenta's own (the second factor's last accepted step, see
:mod:`lenta.totp`): never read or written as settings.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from dataclasses import fields

from lenta.exceptions import InvalidInputError
from lenta.i18n import LANGUAGES
from lenta.site_settings import valid_time_zone

THEMES: tuple[str, ...] = ("system", "light", "dark")
MIN_PER_PAGE = 10
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 30
RESERVED_PREFIX = "_"
_YES = {"1", "yes", "true", "on"}
_NO = {"", "0", "no", "false", "off"}


def _flag(values: dict[str, str], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None:
        return default
    raw = raw.strip().lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise InvalidInputError("{value} is not yes or no.", value=raw)


@dataclass(frozen=True, slots=True)
class UserSettings:
    """One user's settings; the defaults are what a new user has."""

    language: str = ""  # "en", "ru"; "" follows the browser
    time_zone: str = ""  # an IANA name; "" is the site's zone
    theme: str = "system"  # "system" follows the device's light or dark mode
    per_page: int = DEFAULT_PER_PAGE  # items on a page of the reader's lists
    full_text: bool = False  # the reader's lists show items whole, not titles and a line
    read_on_scroll: bool = False  # an item scrolled past in the reader's lists is marked read

    @property
    def zone(self) -> zoneinfo.ZoneInfo | None:
        """The user's own zone, or None to use the site's."""
        return zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else None

    def to_strings(self) -> dict[str, str]:
        strings = {}
        for field in fields(self):
            value = getattr(self, field.name)
            strings[field.name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        return strings

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> UserSettings:
        """Build from stored or submitted text, validating every value.

        Raises:
            InvalidInputError: a value out of its choices or range.
        """
        defaults = cls()
        language = values.get("language", defaults.language).strip()
        if language and language not in LANGUAGES:
            raise InvalidInputError("Unsupported language: {value}", value=language)
        time_zone = values.get("time_zone", defaults.time_zone).strip()
        if time_zone and not valid_time_zone(time_zone):
            raise InvalidInputError("Unknown time zone: {value}", value=time_zone)
        theme = values.get("theme", defaults.theme).strip()
        if theme not in THEMES:
            raise InvalidInputError("Unsupported theme: {value}", value=theme)
        raw_per_page = values.get("per_page", str(defaults.per_page)).strip()
        try:
            per_page = int(raw_per_page)
        except ValueError:
            per_page = 0
        if not (MIN_PER_PAGE <= per_page <= MAX_PER_PAGE) or not raw_per_page.isdigit():
            raise InvalidInputError(
                "Items per page must be a whole number from {low} to {high}.", low=MIN_PER_PAGE, high=MAX_PER_PAGE
            )
        return cls(
            language=language,
            time_zone=time_zone,
            theme=theme,
            per_page=per_page,
            full_text=_flag(values, "full_text", defaults.full_text),
            read_on_scroll=_flag(values, "read_on_scroll", defaults.read_on_scroll),
        )

    @classmethod
    def from_stored(cls, values: dict[str, str]) -> UserSettings:
        """As :meth:`from_strings`, for what the database holds: a value
        that no longer validates (a zone the system dropped, a language
        lenta no longer has) falls back to its default, alone."""
        names = {field.name for field in fields(cls)}
        kept: dict[str, str] = {}
        for name, value in values.items():
            if name not in names:
                continue
            try:
                cls.from_strings({name: value})
            except InvalidInputError:
                continue
            kept[name] = value
        return cls.from_strings(kept)
