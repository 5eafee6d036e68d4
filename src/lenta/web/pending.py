"""A sign-in halfway: the password was right, the second factor is still to
come (:mod:`lenta.web.two_factor`).

No session exists yet. The browser holds the state, in a cookie signed
with the site's key for this purpose alone (``lenta_pending``): the user's
id, when the password was checked, and a random nonce. It opens nothing
but the code form, for :data:`LIFETIME` after the password by lenta's
clock (a forged or stale time is refused, whatever the cookie's own
Max-Age left in the browser), and it goes when the code is right. Wrong
codes are throttled in :meth:`lenta.core.Lenta.check_second_factor`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from lenta.core import Lenta
from lenta.exceptions import UserNotFoundError
from lenta.types import User
from lenta.web.security import delete_cookie
from lenta.web.security import set_signed_cookie
from lenta.web.security import signed_cookie

COOKIE = "lenta_pending"
LIFETIME = timedelta(minutes=5)
_SKEW = 60  # seconds: a time this far ahead of the clock is still taken (clocks of several servers)


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def start(request: Request, response: Response, user: User) -> None:
    """The password was right: the browser may give a code for ``user`` within :data:`LIFETIME`."""
    issued = int(_lenta(request).clock().timestamp())
    value = f"{user.id}.{issued}.{secrets.token_urlsafe(16)}"
    set_signed_cookie(request, response, COOKIE, value, max_age=int(LIFETIME.total_seconds()))


def user_of(request: Request) -> User | None:
    """The user whose password this browser gave, if that was less than
    :data:`LIFETIME` ago and the user still has a second factor to ask for."""
    value = signed_cookie(request, COOKIE)
    if value is None:
        return None
    user_id, _, rest = value.partition(".")
    issued, _, _nonce = rest.partition(".")
    if not user_id.isdigit() or not issued.isdigit():
        return None
    lenta = _lenta(request)
    age = lenta.clock().timestamp() - int(issued)
    if not -_SKEW <= age <= LIFETIME.total_seconds():
        return None
    try:
        user = lenta.get_user_by_id(int(user_id))
    except UserNotFoundError:
        return None
    if not lenta.second_factor(user).enabled:  # reset by the admin meanwhile: sign in again
        return None
    return user


def end(request: Request, response: Response) -> None:
    delete_cookie(request, response, COOKIE)
