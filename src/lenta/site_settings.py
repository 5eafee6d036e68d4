"""Site settings: what an admin changes on the settings page, kept in the
database (unlike deployment settings in :mod:`lenta.config`).

Like Drupal's aggregator settings: allowed HTML tags, discard items older
than, items shown per source on /aggregator/sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields

from lenta.exceptions import InvalidInputError
from lenta.parse.sanitize import DEFAULT_ALLOWED_TAGS
from lenta.parse.sanitize import parse_allowed_tags

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
ITEMS_PER_PAGE = 20
DEFAULT_ITEMS_PER_FETCH = 1000
MAX_ITEMS_PER_FETCH = 100_000


@dataclass(frozen=True, slots=True)
class SiteSettings:
    allowed_html: str = DEFAULT_ALLOWED_TAGS
    discard_after: int = 0  # seconds; 0 = never
    source_items: int = 3
    site_name: str = "lenta"
    items_per_fetch: int = DEFAULT_ITEMS_PER_FETCH  # at most this many items stored from one fetch, newest kept

    @property
    def allowed_tags(self) -> frozenset[str]:
        return parse_allowed_tags(self.allowed_html)

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
        except ValueError:
            raise InvalidInputError("Settings must be whole numbers.") from None
        if discard not in DISCARD_CHOICES:
            raise InvalidInputError("Unsupported value for discard items older than: {value}", value=discard)
        if source_items not in SOURCE_ITEMS_CHOICES:
            raise InvalidInputError("Unsupported number of items per source: {value}", value=source_items)
        if not 1 <= items_per_fetch <= MAX_ITEMS_PER_FETCH:
            raise InvalidInputError("Items stored per fetch must be between 1 and {n}.", n=MAX_ITEMS_PER_FETCH)
        allowed_html = values.get("allowed_html", defaults.allowed_html).strip()
        parse_allowed_tags(allowed_html)  # raises InvalidInputError on junk
        site_name = values.get("site_name", defaults.site_name).strip() or defaults.site_name
        return cls(
            allowed_html=allowed_html,
            discard_after=discard,
            source_items=source_items,
            site_name=site_name,
            items_per_fetch=items_per_fetch,
        )
