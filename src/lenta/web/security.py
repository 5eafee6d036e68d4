"""Who is signed in, admin-only pages, and CSRF tokens for every form.

Sessions live in the database (:meth:`lenta.core.Lenta.start_session`):
the ``lenta_session`` cookie holds a random token, signed with the site's
key, and nothing else — no user name, no messages — so a copied cookie
stops opening anything once its session ends (sign-out, a password
change, the user's deletion, a key rotation), and signing in again never
extends an old one. Nothing is stored for anonymous visitors.

The signed-in user's settings (:class:`lenta.user_settings.UserSettings`)
are read with the session, once a request (:func:`user_settings_of`): a
language chosen there replaces the browser's in ``request.state.language``.
An anonymous request reads neither.

CSRF: a signed-in browser's token is its session's; an anonymous one (the
login form) gets a random token in a signed ``lenta_csrf`` cookie. Every
POST must echo the token in its ``csrf_token`` field or is refused with
403 before anything runs.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature
from itsdangerous import Signer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lenta.core import SESSION_LIFETIME
from lenta.core import Lenta
from lenta.site_settings import SiteSettings
from lenta.types import Session
from lenta.types import User
from lenta.user_settings import UserSettings

CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "lenta_session"
CSRF_COOKIE = "lenta_csrf"


class LoginRequired(Exception):
    """Raised by :func:`require_admin` for anonymous visitors; answered
    with a redirect to the login page."""

    def __init__(self, destination: str) -> None:
        super().__init__(destination)
        self.destination = destination


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


# How long a process signs with the key it last read: `lenta secret rotate`
# reaches a running server within this (sessions end at once anyway: their
# rows are deleted), and a flood of form posts does not read it each time.
KEY_TTL = 10.0


def _signer(request: Request, purpose: str) -> Signer:
    cached: tuple[float, str] | None = getattr(request.app.state, "secret_key", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > KEY_TTL:
        cached = request.app.state.secret_key = (now, _lenta(request).secret_key())
    return Signer(cached[1], salt=f"lenta-{purpose}")


def _secure(request: Request) -> bool:
    base_url: str = request.app.state.settings.base_url
    return base_url.startswith("https://")


def _cookie_token(request: Request, name: str) -> str | None:
    """The token in the signed cookie ``name``, or None if absent or forged."""
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        return _signer(request, name).unsign(raw).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None


def current_session(request: Request) -> Session | None:
    """The signed-in session this request's cookie opens, if any (looked up
    once per request; no cookie, no database read)."""
    if hasattr(request.state, "session"):
        session: Session | None = request.state.session
        return session
    token = _cookie_token(request, SESSION_COOKIE)
    found = _lenta(request).signed_in(token) if token else None
    session = found.session if found is not None else None
    request.state.session = session
    if found is not None:
        request.state.site_settings = found.site
        _apply_user_settings(request, found.settings)
    return session


def _apply_user_settings(request: Request, own: UserSettings) -> None:
    """The signed-in user's settings for this request (read with the
    session): their language, if they chose one, wins over the browser's."""
    request.state.user_settings = own
    if own.language:
        request.state.language = own.language


def site_settings_of(request: Request) -> SiteSettings:
    """The site's settings, read once a request (with the session, for a
    signed-in one)."""
    current_session(request)
    site: SiteSettings | None = getattr(request.state, "site_settings", None)
    if site is None:
        site = request.state.site_settings = _lenta(request).site_settings()
    return site


def user_settings_of(request: Request) -> UserSettings | None:
    """The settings of the user signed in on this request (read once per
    request), or None for an anonymous visitor."""
    if current_session(request) is None:
        return None
    own: UserSettings | None = getattr(request.state, "user_settings", None)
    return own


def current_user(request: Request) -> User | None:
    session = current_session(request)
    return session.user if session is not None else None


def sign_in(request: Request, response: Response, user: User) -> Session:
    """Start a session for ``user`` and give the browser its cookie. Any
    session the browser had before is ended (no session fixation)."""
    lenta = _lenta(request)
    old = _cookie_token(request, SESSION_COOKIE)
    if old:
        lenta.end_session(old)
    token = lenta.start_session(user)
    response.set_cookie(
        SESSION_COOKIE,
        _signer(request, SESSION_COOKIE).sign(token).decode("ascii"),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    found = lenta.signed_in(token)
    assert found is not None  # just made
    request.state.session = found.session
    request.state.site_settings = found.site
    _apply_user_settings(request, found.settings)
    return found.session


def sign_out(request: Request, response: Response) -> None:
    """End this browser's session (a copy of its cookie opens nothing after)."""
    token = _cookie_token(request, SESSION_COOKIE)
    if token:
        _lenta(request).end_session(token)
    request.state.session = None
    request.state.user_settings = None
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def csrf_token(request: Request) -> str:
    """The token this browser's forms carry: its session's, or for an
    anonymous visitor one kept in a signed cookie (set by :func:`render`
    through :func:`set_csrf_cookie`)."""
    session = current_session(request)
    if session is not None:
        return session.csrf_token
    token = getattr(request.state, "csrf", None) or _cookie_token(request, CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = True
    request.state.csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Give the browser the anonymous CSRF token a page just put in a form."""
    if getattr(request.state, "new_csrf", False):
        response.set_cookie(
            CSRF_COOKIE,
            _signer(request, CSRF_COOKIE).sign(request.state.csrf).decode("ascii"),
            path="/",
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token (403 if it is wrong)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    session = current_session(request)
    expected = session.csrf_token if session is not None else _cookie_token(request, CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="csrf")
    return form


def set_signed_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    """Give the browser ``value`` (ASCII) in a cookie signed with the site's
    key for ``name`` alone, for this site's pages only (HttpOnly, SameSite=Lax)."""
    response.set_cookie(
        name,
        _signer(request, name).sign(value).decode("ascii"),
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def signed_cookie(request: Request, name: str) -> str | None:
    """The value :func:`set_signed_cookie` gave the browser, or None if absent or forged."""
    return _cookie_token(request, name)


def delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_secure(request))


def require_user(request: Request) -> User:
    """The signed-in user; an anonymous visitor is sent to the login page (and back)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return user


def require_admin(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="admin")
    return user


def login_url(destination: str) -> str:
    return "/user/login?destination=" + quote(destination, safe="/")


def safe_destination(value: Any, fallback: str = "/admin/config/services/aggregator") -> str:
    """Only local paths are followed after login (no open redirects)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback
