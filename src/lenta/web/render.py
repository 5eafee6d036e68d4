"""Templates: one Jinja2 environment, gettext bound to the request's language.

Handlers call :func:`render`; templates get ``_``/``gettext``/``ngettext``
in the request's language, ``url_for``, ``format_date``, the signed-in
user, the CSRF token and flashed messages.

Times are shown in the reader's zone (:func:`lenta.site_settings.zone_for`),
"3 hours ago" decided on that zone's day, each in a ``<time>`` whose
``datetime`` is UTC and whose ``title`` names the zone; numbers, sizes and
durations go through Babel in the page's language (the ``number``,
``size`` and ``duration`` filters, and every number a template gives
``_()`` or ``ngettext``). A stored fetch error is shown from its message
and arguments in the page's language (:func:`error_text`).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import tzinfo
from pathlib import Path
from typing import Any
from typing import cast

from babel.dates import format_datetime
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from babel.units import format_unit
from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import pass_context
from jinja2 import select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from lenta import i18n
from lenta.exceptions import ErrorMessage
from lenta.i18n import N_
from lenta.links import safe_url
from lenta.site_settings import zone_for
from lenta.types import Session
from lenta.web.enclosures import attachments
from lenta.web.fragments import cached_include
from lenta.web.labels import ERROR_LABELS
from lenta.web.labels import OUTCOME_LABELS
from lenta.web.labels import WEBSUB_STATE_LABELS
from lenta.web.pagination import drupal_pager
from lenta.web.security import csrf_token
from lenta.web.security import current_session
from lenta.web.security import current_user
from lenta.web.security import set_csrf_cookie
from lenta.web.security import site_settings_of
from lenta.web.security import user_settings_of
from lenta.web.teaser import trim_html

TEMPLATES_DIR = Path(__file__).with_name("templates")

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=i18n.DEFAULT_LANGUAGE)
DATE_PATTERN = "EEE, dd.MM.yyyy - HH:mm"  # Drupal's medium date, as the aggregator shows it
FULL_DATE_PATTERN = "d MMMM y, HH:mm"  # in the title of a time: the date whole, and the zone
_FORMAT_SPEC = re.compile(r"\{(\w+):[^{}]*\}")
_SIZE_UNITS = ((1000, "digital-kilobyte"), (1000**2, "digital-megabyte"), (1000**3, "digital-gigabyte"))


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


def error_text(text: str | None, params: ErrorMessage | None, language: str | None = None) -> str:
    """A stored fetch error's words in ``language`` (the page's): in English
    the stored text, with any outside words it quotes; in another language
    its message translated, its numbers written as the language writes them.
    "" when there is nothing to say in that language beyond the kind's label:
    a row stored before errors kept their parameters, or whose message no
    catalog knows any more."""
    language = language or _language.get()
    if language == i18n.DEFAULT_LANGUAGE:
        return text or ""
    if params is None or params.message not in i18n.translated_messages(language):
        return ""
    locale = i18n.locale(language)
    args = {
        name: format_decimal(value, locale=locale) if isinstance(value, (int, float)) else value
        for name, value in params.args.items()
    }
    # Every argument is text now: a format spec ("{seconds:g}") would refuse it.
    template = _FORMAT_SPEC.sub(r"{\1}", i18n.translations(language).gettext(params.message))
    try:
        return template.format(**args) if args else template
    except (KeyError, IndexError, ValueError):
        return ""


def fetch_error(kind: str | None, text: str | None, params: ErrorMessage | None) -> Markup:
    """``<span class="error-kind">(label)</span>: (error_text)`` in the page's language."""
    label = Markup('<span class="error-kind">{}</span>').format(error_label(kind))
    detail = error_text(text, params)
    return Markup("{}: {}").format(label, detail) if detail else label


def error_summary(kind: str | None, text: str | None, params: ErrorMessage | None, language: str) -> str:
    """:func:`fetch_error` as plain text ("(label): (error_text)"), for a
    flashed message in ``language``."""
    token = _language.set(language)
    try:
        label, detail = error_label(kind), error_text(text, params)
    finally:
        _language.reset(token)
    return f"{label}: {detail}" if detail else label


def outcome_label(outcome: str) -> str:
    """A fetch-log outcome: ok, not modified, pushed, or an error kind."""
    if outcome in OUTCOME_LABELS:
        return _gettext(OUTCOME_LABELS[outcome])
    return error_label(outcome)


def websub_state_label(state: str) -> str:
    return _gettext(WEBSUB_STATE_LABELS.get(state, state))


def format_number(value: float, language: str | None = None) -> str:
    """A count as the language writes it: "1,234" in English, "1 234" in Russian."""
    return format_decimal(value, locale=i18n.locale(language or _language.get()))


def format_size(size: float, language: str | None = None) -> str:
    """Bytes as "512 B", "1.5 kB", "20 MB" (decimal units, as CLDR names them)."""
    locale = i18n.locale(language or _language.get())
    if size < 1000:
        return format_unit(size, "digital-byte", length="short", format="#,##0", locale=locale)
    # The first unit whose figure stays under 1,000 once rounded: never "1,000 kB".
    factor, unit = next(((f, u) for f, u in _SIZE_UNITS if round(size / f, 1) < 1000), _SIZE_UNITS[-1])
    return format_unit(size / factor, unit, length="short", format="#,##0.#", locale=locale)


def format_duration(seconds: float, language: str | None = None) -> str:
    """Seconds with two decimals: "1.92 sec", "1,92 с"."""
    locale = i18n.locale(language or _language.get())
    return format_unit(seconds, "duration-second", length="short", format="#,##0.00", locale=locale)


def _numbers(variables: dict[str, object]) -> dict[str, object]:
    # jinja2's gettext fills %(n)s with a bare int; the language writes it
    # through Babel ("1 234" in Russian). bool is an int, but no number.
    return {
        name: format_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        for name, value in variables.items()
    }


@pass_context
def _gettext_numbers(context: Context, message: str, **variables: object) -> str:
    installed = cast(Callable[..., str], context.environment.globals["_gettext_installed"])
    return installed(context, message, **_numbers(variables))


@pass_context
def _ngettext_numbers(context: Context, singular: str, plural: str, num: int, **variables: object) -> str:
    # The plural form is still chosen by the int.
    variables.setdefault("num", num)
    installed = cast(Callable[..., str], context.environment.globals["_ngettext_installed"])
    return installed(context, singular, plural, num, **_numbers(variables))


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
    env.globals["_gettext_installed"] = env.globals["gettext"]
    env.globals["_ngettext_installed"] = env.globals["ngettext"]
    env.globals["gettext"] = _gettext_numbers  # "_" looks "gettext" up
    env.globals["ngettext"] = _ngettext_numbers
    env.globals["drupal_pager"] = drupal_pager
    env.globals["interval_label"] = interval_label
    env.globals["error_label"] = error_label
    env.globals["error_text"] = error_text
    env.globals["fetch_error"] = fetch_error
    env.globals["outcome_label"] = outcome_label
    env.globals["websub_state_label"] = websub_state_label
    env.globals["attachments"] = attachments
    env.globals["cached_include"] = cached_include
    env.filters["safe_url"] = safe_url
    env.filters["number"] = format_number
    env.filters["size"] = format_size
    env.filters["duration"] = format_duration
    return env


def format_date(value: datetime | None, language: str, zone: tzinfo = UTC, now: datetime | None = None) -> str:
    """Drupal's aggregator date in ``zone``: "3 hours ago" on the zone's
    today (not UTC's), else a medium date and time."""
    if value is None:
        return ""
    now = (now or datetime.now(UTC)).astimezone(zone)
    local = value.astimezone(zone)
    if local.date() == now.date() and local <= now:
        # At least a second ago: Babel reads a zero as the future ("in 0 seconds").
        ago = min(local - now, -timedelta(seconds=1))
        return format_timedelta(ago, add_direction=True, locale=i18n.locale(language))
    return format_datetime(local, DATE_PATTERN, locale=i18n.locale(language))  # local is in the zone already


def utc_offset(value: datetime) -> str:
    """ "UTC+03:00", "UTC-04:30", "UTC" for an aware datetime."""
    offset = value.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def time_element(
    value: datetime | None, language: str, zone: tzinfo = UTC, now: datetime | None = None, css_class: str = ""
) -> Markup:
    """``value`` as ``<time datetime="(UTC)" title="(the date whole, the zone)">(format_date)</time>``."""
    if value is None:
        return Markup("")
    local = value.astimezone(zone)
    title = i18n.translations(language).gettext(N_("{time}, time zone {zone} ({offset})"))
    title = title.format(
        time=format_datetime(local, FULL_DATE_PATTERN, locale=i18n.locale(language)),
        zone=str(zone),
        offset=utc_offset(local),
    )
    utc = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    class_attribute = f' class="{escape(css_class)}"' if css_class else ""
    # Joined by hand: Markup.format() costs as much as the rest, and a page has dozens of these.
    text = escape(format_date(value, language, zone, now))
    return Markup(f'<time{class_attribute} datetime="{utc}" title="{escape(title)}">{text}</time>')


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``template`` in the request's language (the signed-in
    user's own, if they chose one), their time zone and theme."""
    session = current_session(request)  # first: the user's settings may change the language
    language: str = request.state.language
    token = _language.set(language)
    try:
        env: Environment = request.app.state.templates
        user = current_user(request)
        own = user_settings_of(request)
        lenta = request.app.state.lenta
        site = site_settings_of(request)
        zone = zone_for(user, site, own)
        now = lenta.clock()  # one "now" for the page (lenta's clock), so every "… ago" on it agrees
        values: dict[str, Any] = {
            "request": request,
            "language": language,
            "user": user,
            "csrf_token": lambda: csrf_token(request),
            "messages": lenta.pop_messages(session) if _may_have_messages(request, session) else [],
            "site_name": site.site_name,
            "url_for": request.url_for,
            "time_zone": zone,
            "theme": own.theme if own is not None else "system",  # the class of <html>: theme-system, -light, -dark
            # A <time> element: the text in the reader's zone, UTC in its datetime, the zone in its title.
            "format_date": lambda value, css_class="": time_element(value, language, zone, now, css_class),
            "safe_html": lambda html: Markup(html or ""),  # only for already-sanitized HTML
            # An item's body as the site shows it: whole, or trimmed (site.teaser_length).
            "teaser": lambda html: trim_html(html or "", site.teaser_length, site.allowed_tags if site.teaser_length else None),
            "icons": {},  # feed id -> its icon's version, for the feeds on the page that have one (handlers fill it)
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
        request.state.flashed = True


def _may_have_messages(request: Request, session: Session | None) -> bool:
    """Whether the session has messages queued: it had when this request
    read it, or this request queued some. Most pages have none, and take
    no database round trip to find that out."""
    return session is not None and (session.has_messages or getattr(request.state, "flashed", False))


def gettext_for(request: Request, message: str, **args: object) -> str:
    """``message`` in the request's language: the signed-in user's own, if
    they chose one, which is known once the session is (looked up first, as
    :func:`render` does, whatever the handler has read so far)."""
    current_session(request)
    text = i18n.translations(request.state.language).gettext(message)
    return text.format(**args) if args else text
