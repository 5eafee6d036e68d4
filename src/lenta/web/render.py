"""Templates: one Jinja2 environment, gettext bound to the request's language.

Handlers call :func:`render`; templates get ``_``/``gettext``/``ngettext``
in the request's language, ``url_for``, ``format_date``, the signed-in
user, the CSRF token and flashed messages.
"""

from __future__ import annotations

import contextvars
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.dates import format_timedelta
from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from lenta import i18n
from lenta.links import safe_url
from lenta.web.labels import ERROR_LABELS
from lenta.web.labels import OUTCOME_LABELS
from lenta.web.labels import WEBSUB_STATE_LABELS
from lenta.web.pagination import drupal_pager
from lenta.web.security import csrf_token
from lenta.web.security import current_session
from lenta.web.security import current_user
from lenta.web.security import set_csrf_cookie

TEMPLATES_DIR = Path(__file__).with_name("templates")

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=i18n.DEFAULT_LANGUAGE)


def _gettext(message: str) -> str:
    return i18n.translations(_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(_language.get()).ngettext(singular, plural, n)


def interval_label(seconds: int) -> str:
    """ "15 minutes", "1 day", "4 weeks" in the current language."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1, locale=i18n.locale(_language.get()))


def error_label(kind: str | None) -> str:
    if not kind:
        return ""
    return _gettext(ERROR_LABELS.get(kind, kind))


def outcome_label(outcome: str) -> str:
    """A fetch-log outcome: ok, not modified, pushed, or an error kind."""
    if outcome in OUTCOME_LABELS:
        return _gettext(OUTCOME_LABELS[outcome])
    return error_label(outcome)


def websub_state_label(state: str) -> str:
    return _gettext(WEBSUB_STATE_LABELS.get(state, state))


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # jinja2.ext.i18n adds this method to the environment at run time; Environment does not declare it.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["drupal_pager"] = drupal_pager
    env.globals["interval_label"] = interval_label
    env.globals["error_label"] = error_label
    env.globals["outcome_label"] = outcome_label
    env.globals["websub_state_label"] = websub_state_label
    env.filters["safe_url"] = safe_url
    return env


def format_date(value: datetime | None, language: str, now: datetime | None = None) -> str:
    """Drupal's aggregator date: "3 hours ago" today, else a medium date and time."""
    if value is None:
        return ""
    now = now or datetime.now(UTC)
    local = value.astimezone(UTC)
    if local.date() == now.date() and local <= now:
        return format_timedelta(local - now, add_direction=True, locale=i18n.locale(language))
    return format_datetime(local, "EEE, dd.MM.yyyy - HH:mm", tzinfo=UTC, locale=i18n.locale(language))


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``template`` in the request's language."""
    language: str = request.state.language
    token = _language.set(language)
    try:
        env: Environment = request.app.state.templates
        session = current_session(request)
        values: dict[str, Any] = {
            "request": request,
            "language": language,
            "user": current_user(request),
            "csrf_token": lambda: csrf_token(request),
            "messages": request.app.state.lenta.pop_messages(session) if session else [],
            "site_name": request.app.state.lenta.site_settings().site_name,
            "url_for": request.url_for,
            "format_date": lambda value: format_date(value, language),
            "safe_html": lambda html: Markup(html or ""),  # only for already-sanitized HTML
            # For an inline <script nonce="…">: the Content-Security-Policy allows only these (web/headers.py).
            "csp_nonce": getattr(request.state, "csp_nonce", ""),
        }
        values.update(context or {})
        html = env.get_template(template).render(values)
    finally:
        _language.reset(token)
    response = HTMLResponse(html, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


def flash(request: Request, message: str, kind: str = "status") -> None:
    """Queue a message for the next page (Drupal's drupal_set_message). It
    is kept with the session in the database, never in the cookie, so any
    number of them survives; without a session there is no next page to
    show it on."""
    flash_all(request, [message], kind)


def flash_all(request: Request, messages: list[str], kind: str = "status") -> None:
    """:func:`flash` for many messages at once (one write)."""
    session = current_session(request)
    if session is not None and messages:
        request.app.state.lenta.add_messages(session, [{"kind": kind, "text": text} for text in messages])


def gettext_for(request: Request, message: str, **args: object) -> str:
    text = i18n.translations(request.state.language).gettext(message)
    return text.format(**args) if args else text
