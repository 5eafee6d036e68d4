"""Deployment settings: one declarative table, loaded once, passed explicitly.

Every setting is a ``LENTA_*`` environment variable with a default, a cast
and a help line. :func:`load_settings` reads them (from ``os.environ`` or a
mapping the caller gives) into a frozen :class:`Settings`; nothing in lenta
reads the environment anywhere else. A test checks that every setting here
is documented in the README.

Site settings an admin changes at run time (allowed HTML tags, retention,
items per source) live in the database instead: see
:mod:`lenta.site_settings`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lenta import __version__
from lenta.exceptions import InvalidInputError

PROJECT_URL = "https://github.com/lenta-aggregator/lenta"
DEFAULT_USER_AGENT = f"lenta/{__version__} (+{PROJECT_URL}; feed aggregator)"


def default_database() -> str:
    """A file in the user's data directory (created on first use)."""
    import platformdirs  # only when LENTA_DB names no database

    return str(Path(platformdirs.user_data_dir("lenta")) / "lenta.sqlite")


_PASSWORD_IN_URL = re.compile(r"(://[^/@:]*:)[^/@]*@")
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def display_database(database: str) -> str:
    """``database`` (a path or a URL) fit for logs and terminals: a
    password in it, ``user:PASSWORD@`` or ``?password=``, shows as ``***``."""
    if "://" not in database:
        return database
    from sqlalchemy.engine import make_url  # only when there is a URL to show
    from sqlalchemy.exc import ArgumentError

    try:
        shown = make_url(database).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Not a URL SQLAlchemy reads (opening it will fail too): mask by pattern.
        shown = _PASSWORD_IN_URL.sub(r"\1***@", database)
    return _PASSWORD_IN_QUERY.sub(r"\1***", shown)


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("not a boolean (use true/false)")


def _float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(number):  # "nan" and "inf" read as floats; no timeout or interval is either
        raise ValueError("not a finite number")
    return number


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("not a whole number") from None


def _positive_float(value: str) -> float:
    number = _float(value)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_float(value: str) -> float:
    number = _float(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _positive_int(value: str) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_int(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


MAX_PORT = 65535


def _port(value: str) -> int:
    number = _int(value)
    if not 1 <= number <= MAX_PORT:
        raise ValueError(f"a port is 1 to {MAX_PORT}")
    return number


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def cast(value: str) -> str:
        value = value.strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return cast


def _base_url(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # an unclosed [IPv6 address, a port that is no number
        valid = False
    if not valid:
        raise ValueError("must be empty or an http(s) URL with a host, such as https://feeds.example.org/")
    return value


def _language(value: str) -> str:
    value = value.strip().lower()
    if value not in {"", "en", "ru"}:
        raise ValueError("must be empty (negotiate), en or ru")
    return value


@dataclass(frozen=True, slots=True)
class Setting:
    name: str  # the Settings attribute; the variable is LENTA_<NAME>
    default: str
    cast: Callable[[str], Any]
    help: str

    @property
    def env(self) -> str:
        return "LENTA_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        "",
        str,
        "Database: a file path, sqlite:///PATH or postgresql://… URL. Default: lenta.sqlite in the user's data directory.",
    ),
    Setting("host", "127.0.0.1", str, "Address `lenta serve` listens on."),
    Setting("port", "8080", _port, "Port `lenta serve` listens on."),
    Setting(
        "allowed_hosts",
        "",
        str,
        "Comma-separated host names the site answers to (the Host header); "
        "empty: the host of LENTA_BASE_URL, or with no base URL the local names (localhost, 127.0.0.1, ::1 "
        "and LENTA_HOST).",
    ),
    Setting(
        "header_timeout",
        "10",
        _positive_float,
        "Seconds a client has to send a request's headers before `lenta serve` closes the connection.",
    ),
    Setting(
        "max_connections",
        "200",
        _positive_int,
        "Most connections `lenta serve` serves at once; requests beyond them are answered 503.",
    ),
    Setting("base_url", "", _base_url, "Public base URL of this site (for links in RSS/OPML and WebSub callbacks)."),
    Setting("secret_key", "", str, "Key that signs session cookies. Default: generated once and kept in the database."),
    Setting(
        "secret_key_file",
        "",
        str,
        "A file holding the key that signs session cookies (used when LENTA_SECRET_KEY "
        "is empty), e.g. a systemd credential or a container secret.",
    ),
    Setting("language", "", _language, "Force the UI language (en or ru); empty negotiates from Accept-Language."),
    Setting(
        "fetch_allow",
        "",
        str,
        "Comma-separated host[:port] and CIDR entries the fetcher may reach even though "
        "they are not public addresses (e.g. 127.0.0.1, 10.0.0.0/8, intranet.example:8080).",
    ),
    Setting("fetch_timeout", "20", _positive_float, "Connect and read timeout of one request, in seconds."),
    Setting("fetch_deadline", "60", _positive_float, "Total wall-clock deadline of one fetch, redirects included, in seconds."),
    Setting(
        "fetch_max_bytes", str(20 * 1024 * 1024), _positive_int, "Largest feed body lenta downloads (decompressed), in bytes."
    ),
    Setting("user_agent", DEFAULT_USER_AGENT, str, "User-Agent header sent with every request."),
    Setting("concurrency", "150", _positive_int, "Most feeds fetched at once (the per-host limit still applies)."),
    Setting(
        "refresh_processes",
        "0",
        _non_negative_int,
        "Processes `lenta refresh` shares a big round among (each host whole, or its connections shared); 0: one per CPU core.",
    ),
    Setting("per_host", "2", _positive_int, "Most connections to one host at once."),
    Setting("host_interval", "0.1", _non_negative_float, "Least seconds between the starts of two requests to one host."),
    Setting("scheduler_tick", "30", _positive_float, "Seconds between the scheduler's looks for due feeds."),
    Setting("scheduler", "true", _bool, "Whether `lenta serve` runs the background refresher."),
    Setting(
        "migrate",
        "false",
        _bool,
        "Whether an existing database whose schema is out of date is migrated when lenta opens it "
        "(otherwise every command but `lenta migrate` refuses it); a new database is always given its schema.",
    ),
    Setting("log_level", "info", _choice(LOG_LEVELS), "Least level logged: debug, info, warning or error."),
    Setting("log_format", "text", _choice(LOG_FORMATS), "Log lines on standard error: text, or json (one object a line)."),
    Setting("access_log", "true", _bool, "Whether `lenta serve` logs every request (method, path, status, duration, client)."),
)


@dataclass(frozen=True, slots=True)
class Settings:
    db: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    allowed_hosts: str = ""
    header_timeout: float = 10.0
    max_connections: int = 200
    base_url: str = ""
    secret_key: str = ""
    secret_key_file: str = ""
    language: str = ""
    fetch_allow: str = ""
    fetch_timeout: float = 20.0
    fetch_deadline: float = 60.0
    fetch_max_bytes: int = 20 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
    # Enough for every host of a shard of a thousand-feed round to have its
    # first request out at once: with fewer, hosts waited for a place, and
    # their spaced-out later requests with them (bench/README.md).
    concurrency: int = 150
    refresh_processes: int = 0
    per_host: int = 2
    host_interval: float = 0.1
    scheduler_tick: float = 30.0
    scheduler: bool = True
    migrate: bool = False
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = True

    @property
    def database(self) -> str:
        """The database URL or path, with the default filled in."""
        return self.db or default_database()

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every setting from ``environ`` (default ``os.environ``).

    ``overrides`` (already-typed values, e.g. from command-line options)
    win over the environment. A value that does not cast raises
    :class:`InvalidInputError` naming the variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env, setting.default)
        try:
            values[setting.name] = setting.cast(raw)
        except ValueError as exc:
            raise InvalidInputError(
                "{name}={value!r} is not valid: {reason}", name=setting.env, value=raw, reason=str(exc)
            ) from None
    values.update({key: value for key, value in overrides.items() if value is not None})
    return Settings(**values)


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The ``LENTA_*`` variables that :func:`load_settings` turns back into
    ``settings`` (how ``lenta serve`` hands its settings to its refresher)."""
    env: dict[str, str] = {}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if isinstance(value, bool):
            env[setting.env] = "true" if value else "false"
        else:
            env[setting.env] = str(value)
    return env
