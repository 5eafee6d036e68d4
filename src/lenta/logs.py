"""lenta's logs: lines on standard error, as text or as one JSON object each.

Every ``lenta`` command calls :func:`configure_logging` once, from its
settings (``LENTA_LOG_LEVEL`` or ``--log-level``, ``LENTA_LOG_FORMAT``): one
handler on the root logger, so lenta's own lines and its libraries' (uvicorn,
asyncio) look alike. ``lenta serve``'s refresher is a ``lenta worker`` of its
own that gets the same settings through ``LENTA_*`` variables
(:func:`lenta.config.settings_to_env`) and writes to the same standard error.

What lenta logs, besides errors with their tracebacks:

- ``lenta.refresh``: one line per refresh round (``event`` ``refresh_round``:
  feeds, ok, not modified, failed, new and updated items, duration), from
  ``lenta worker``, ``lenta serve``'s refresher and ``lenta refresh``;
  rounds with no feed due only at debug;
- ``lenta.update``: a warning per feed that failed (``feed_error``: feed id,
  URL, kind, HTTP status, error);
- ``lenta.access``: a line per request ``lenta serve`` answers
  (``request``, see :mod:`lenta.web.accesslog`; ``LENTA_ACCESS_LOG``).

In JSON each line carries ``time`` (UTC), ``level``, ``logger``, ``pid``,
``message`` and the structured fields a call passed in ``extra``.

Secrets stay out (issue 9): nothing logs a cookie, a session token or a form,
feed credentials are kept apart from feed URLs (:mod:`lenta.credentials`),
the database is shown through :func:`lenta.config.display_database`; and as
a last guard every line, tracebacks included, is passed through
:func:`scrub`, which masks the userinfo of any URL and any ``password=``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING

from lenta.credentials import redact

if TYPE_CHECKING:
    from lenta.config import Settings
    from lenta.types import RefreshSummary

ROUNDS = logging.getLogger("lenta.refresh")
QUIET_LIBRARIES = ("alembic",)

# The attributes every LogRecord has; the others came in a call's ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_PASSWORD = re.compile(r"(?i)(\bpassword=)[^&\s\"']*")


def scrub(text: str) -> str:
    """``text`` without secrets a URL or a connection string may carry:
    ``scheme://user:secret@`` becomes ``scheme://***@``, ``password=secret``
    ``password=***``."""
    return _PASSWORD.sub(r"\1***", redact(text))


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}


def _plain(value: object) -> object:
    """A field as JSON holds it, scrubbed if it is text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(value if isinstance(value, str) else str(value))


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps({key: _plain(value) for key, value in entry.items()}, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-05-01T10:00:00.123Z INFO lenta.refresh[1234]: message``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record.created)} {record.levelname} {record.name}[{record.process}]: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return scrub(line)


class StderrHandler(logging.Handler):
    """Writes to ``sys.stderr`` as it is at each record (click's test runner
    swaps it). Text on a terminal first clears the line, so that a progress
    bar being drawn there (``lenta refresh``) does not run into the log."""

    def __init__(self, formatter: logging.Formatter, *, clear_line: bool = False) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.clear_line = clear_line

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            if self.clear_line and stream.isatty():
                line = "\r\x1b[K" + line
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def configure_logging(settings: Settings) -> None:
    """Send this process's logs to standard error as ``settings`` say; a
    second call replaces what the first set up."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    json_lines = settings.log_format == "json"
    root.addHandler(StderrHandler(JSONFormatter() if json_lines else TextFormatter(), clear_line=not json_lines))
    root.setLevel(settings.log_level.upper())
    # Libraries' chatter (alembic's plugins and dialect notes) only when debugging:
    # lenta says itself what they did.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if settings.log_level == "debug" else logging.WARNING)


def log_round(summary: RefreshSummary, seconds: float) -> None:
    """The line of a refresh round that has ended (at debug when no feed was due)."""
    feeds = summary.ok + summary.not_modified + summary.failed
    ROUNDS.log(
        logging.INFO if feeds else logging.DEBUG,
        "refresh round: %d feeds, %d ok, %d not modified, %d failed; %d new items, %d updated; %.2f s",
        feeds,
        summary.ok,
        summary.not_modified,
        summary.failed,
        summary.new_items,
        summary.updated_items,
        seconds,
        extra={
            "event": "refresh_round",
            "feeds": feeds,
            "ok": summary.ok,
            "not_modified": summary.not_modified,
            "failed": summary.failed,
            "new_items": summary.new_items,
            "updated_items": summary.updated_items,
            "duration": round(seconds, 3),
        },
    )
