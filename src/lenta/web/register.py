"""Open registration (Drupal's /user/register): with the site setting
``open_registration`` on, a visitor makes an ordinary account (a name and
a password typed twice, the rules of ``lenta user add``) and is signed in;
with it off, the page does not exist (404).

A registration hashes a password, as a sign-in does, so it passes the same
guards (:mod:`lenta.web.account`): the CSRF check, the hash gate (503 when
full; :class:`~lenta.web.account.SignInFloodGuard` answers a flood before
routing), and a per-address throttle of its own
(:meth:`lenta.core.Lenta.register`: 429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import functools

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import auth
from lenta import i18n
from lenta import plurals
from lenta.core import Lenta
from lenta.exceptions import LentaError
from lenta.exceptions import LoginThrottledError
from lenta.types import User
from lenta.web.account import BUSY_RETRY_AFTER
from lenta.web.account import GateFull
from lenta.web.account import HashGate
from lenta.web.account import home_of
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import current_user
from lenta.web.security import sign_in

PAGE = "/user/register"


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


async def _open_or_404(request: Request) -> None:
    if not (await run_in_threadpool(_lenta(request).site_settings)).open_registration:
        raise HTTPException(status_code=404)


def _form(request: Request, name: str = "", error: str | None = None, status_code: int = 200) -> Response:
    context = {"name": name, "error": error, "min_password": auth.MIN_PASSWORD_LENGTH}
    return render(request, "user/register.html", context, status_code=status_code)


async def register_form(request: Request) -> Response:
    await _open_or_404(request)
    user = await run_in_threadpool(current_user, request)
    if user is not None:
        return RedirectResponse(home_of(user), status_code=303)
    return await run_in_threadpool(_form, request)


def _refused(request: Request, name: str, text: str, status: int, retry_after: int) -> Response:
    response = _form(request, name, text, status)
    response.headers["Retry-After"] = str(retry_after)
    return response


async def register(request: Request) -> Response:
    await _open_or_404(request)
    form = await checked_form(request)
    name = str(form.get("name", "")).strip()[:256]
    password, again = str(form.get("pass", "")), str(form.get("pass2", ""))
    if password != again:
        return await run_in_threadpool(_form, request, name, gettext_for(request, "The two passwords are not the same."), 400)
    lenta = _lenta(request)
    address = request.client.host if request.client else None
    wait = await run_in_threadpool(lenta.registration_wait, address=address)
    if wait is not None:  # refused before queueing for a hash
        return _refused(request, name, plurals.registration_wait(i18n.translations(request.state.language), wait), 429, wait)
    gate: HashGate = request.app.state.hash_gate
    try:
        async with gate.slot():
            user: User = await asyncio.get_running_loop().run_in_executor(
                auth.hash_pool(), functools.partial(lenta.register, name, password, address=address)
            )
    except GateFull:
        text = gettext_for(request, "Too many people are signing in right now. Try again in a few seconds.")
        return _refused(request, name, text, 503, BUSY_RETRY_AFTER)
    except LoginThrottledError as throttled:
        text = plurals.registration_wait(i18n.translations(request.state.language), throttled.retry_after)
        return _refused(request, name, text, 429, throttled.retry_after)
    except LentaError as error:
        return await run_in_threadpool(_form, request, name, i18n.translate_error(error, request.state.language), 400)
    response = RedirectResponse(home_of(user), status_code=303)
    sign_in(request, response, user)
    flash(request, gettext_for(request, "Welcome, {name}: your account is ready.", name=user.name))
    return response
