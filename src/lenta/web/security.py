"""Who is signed in, admin-only pages, and CSRF tokens for every form.

The CSRF token is a random value kept in the signed session cookie and
echoed in each form as ``csrf_token``; a POST without the matching token
is refused with 403 before anything runs.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from lenta.exceptions import UserNotFoundError
from lenta.types import User

CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """Raised by :func:`require_admin` for anonymous visitors; answered
    with a redirect to the login page."""

    def __init__(self, destination: str) -> None:
        super().__init__(destination)
        self.destination = destination


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token: str | None = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token (403 if it is wrong)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="csrf")
    return form


def current_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    name = request.session.get("user")
    user = None
    if name:
        try:
            user = request.app.state.lenta.get_user(name)
        except UserNotFoundError:
            request.session.pop("user", None)
    request.state.user = user
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


def safe_destination(value: Any) -> str:
    """Only local paths are followed after login (no open redirects)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/config/services/aggregator"
