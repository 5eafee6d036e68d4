"""A second factor: the code step of a sign-in (``/user/login/code``) and
the page where a user turns it on or off (``/user/two-factor``).

Turning it on: the page shows a secret (base32) and its ``otpauth://``
URI for an authenticator app; a code from the app confirms it, and the
answer shows ten recovery codes, this once (lenta keeps only their
hashes). Turning it off takes a current code (or a recovery code). The
checks, their throttle and the codes' one use are the facade's
(:meth:`lenta.core.Lenta.check_second_factor`); the half-signed-in state
between password and code is :mod:`lenta.web.pending`'s.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta import plurals
from lenta.core import Lenta
from lenta.exceptions import LentaError
from lenta.exceptions import LoginThrottledError
from lenta.types import User
from lenta.web import pending
from lenta.web.account import home_of
from lenta.web.account import login_context
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import require_user
from lenta.web.security import safe_destination
from lenta.web.security import sign_in

PAGE = "/user/two-factor"


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _throttled(request: Request, template: str, context: dict[str, object], wait: int) -> Response:
    text = plurals.sign_in_wait(i18n.translations(request.state.language), wait)
    response = render(request, template, {**context, "error": text}, status_code=429)
    response.headers["Retry-After"] = str(wait)
    return response


# -- the sign-in's second step -------------------------------------------


def _expired(request: Request, destination: str) -> Response:
    error = gettext_for(request, "The sign-in took too long. Enter your password again.")
    response = render(request, "user/login.html", login_context(request, destination, "", error), status_code=400)
    pending.end(request, response)
    return response


async def code_form(request: Request) -> Response:
    destination = safe_destination(request.query_params.get("destination"), fallback="")
    if await run_in_threadpool(pending.user_of, request) is None:
        return RedirectResponse("/user/login", status_code=303)
    return render(request, "user/login_code.html", {"destination": destination, "error": None})


async def code(request: Request) -> Response:
    form = await checked_form(request)
    destination = safe_destination(form.get("destination"), fallback="")
    user = await run_in_threadpool(pending.user_of, request)
    if user is None:
        return _expired(request, destination)
    context: dict[str, object] = {"destination": destination}
    try:
        right = await run_in_threadpool(
            _lenta(request).check_second_factor, user, str(form.get("code", "")), address=_address(request)
        )
    except LoginThrottledError as throttled:
        return _throttled(request, "user/login_code.html", context, throttled.retry_after)
    if not right:
        error = gettext_for(request, "The code is not right. Enter the code the app shows now, or a recovery code.")
        return render(request, "user/login_code.html", {**context, "error": error}, status_code=400)
    response = RedirectResponse(destination or home_of(user), status_code=303)
    pending.end(request, response)
    sign_in(request, response, user)
    flash(request, gettext_for(request, "Signed in as {name}.", name=user.name))
    return response


# -- the user's own page ----------------------------------------------------


def _page(request: Request, user: User, error: str | None = None, status_code: int = 200) -> Response:
    lenta = _lenta(request)
    state = lenta.second_factor(user)
    context: dict[str, object] = {"state": state, "setup": None, "error": error}
    if not state.enabled:
        context["setup"] = lenta.start_totp(user)
    return render(request, "user/two_factor.html", context, status_code=status_code)


def page(request: Request) -> Response:
    return _page(request, require_user(request))


async def enable(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    lenta = _lenta(request)
    try:
        codes = await run_in_threadpool(lenta.enable_totp, user, str(form.get("code", "")), address=_address(request))
    except LoginThrottledError as throttled:
        return await run_in_threadpool(_throttled_page, request, user, throttled.retry_after)
    except LentaError as error:
        return await run_in_threadpool(_page, request, user, i18n.translate_error(error, request.state.language), 400)
    response = render(request, "user/recovery_codes.html", {"codes": codes})
    response.headers["Cache-Control"] = "no-store"  # shown this once: kept in no cache
    return response


async def disable(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    try:
        await run_in_threadpool(_lenta(request).disable_totp, user, str(form.get("code", "")), address=_address(request))
    except LoginThrottledError as throttled:
        return await run_in_threadpool(_throttled_page, request, user, throttled.retry_after)
    except LentaError as error:
        return await run_in_threadpool(_page, request, user, i18n.translate_error(error, request.state.language), 400)
    flash(request, gettext_for(request, "The second factor is off: signing in asks for the password only."))
    return RedirectResponse(PAGE, status_code=303)


def _throttled_page(request: Request, user: User, wait: int) -> Response:
    response = _page(request, user, plurals.sign_in_wait(i18n.translations(request.state.language), wait), 429)
    response.headers["Retry-After"] = str(wait)
    return response
