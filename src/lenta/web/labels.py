"""Human labels for stored codes (fetch error kinds), marked for translation."""

from __future__ import annotations

from lenta.exceptions import FetchErrorKind
from lenta.i18n import N_

ERROR_LABELS: dict[str, str] = {
    FetchErrorKind.DNS: N_("Host not found"),
    FetchErrorKind.REFUSED: N_("Connection refused"),
    FetchErrorKind.TLS: N_("TLS error"),
    FetchErrorKind.TIMEOUT: N_("Timed out"),
    FetchErrorKind.HTTP_CLIENT: N_("HTTP client error"),
    FetchErrorKind.HTTP_SERVER: N_("HTTP server error"),
    FetchErrorKind.GONE: N_("Gone"),
    FetchErrorKind.BOT_WALL: N_("Blocked by a bot wall"),
    FetchErrorKind.TOO_LARGE: N_("Too large"),
    FetchErrorKind.TOO_MANY_REDIRECTS: N_("Too many redirects"),
    FetchErrorKind.NOT_ALLOWED: N_("Address not allowed"),
    FetchErrorKind.NETWORK: N_("Network error"),
    FetchErrorKind.NOT_A_FEED: N_("Not a feed"),
    FetchErrorKind.PARSE: N_("Parse error"),
    FetchErrorKind.INTERNAL: N_("Internal error"),
}

OUTCOME_LABELS: dict[str, str] = {
    "ok": N_("OK"),
    "not_modified": N_("Not modified"),
    "push": N_("Pushed by the hub"),
}

WEBSUB_STATE_LABELS: dict[str, str] = {
    "pending": N_("waiting to subscribe"),
    "requested": N_("subscription requested, waiting for the hub"),
    "active": N_("subscribed, the hub pushes updates"),
    "failed": N_("subscription failed"),
}
