"""Signing in and out (Drupal's /user/login).

Checking a password is the most expensive thing a visitor can make lenta
do (Argon2: 64 MiB and a fifth of a second each). So a sign-in passes, in
order: the CSRF check; :class:`HashGate`, which lets
:data:`~lenta.auth.MAX_CONCURRENT_HASHES` checks run at once on threads of
their own and keeps at most :data:`HashGate.QUEUE` more waiting (the rest
get 503 at once, holding nothing); and the throttle in
:meth:`lenta.core.Lenta.sign_in` (429 with Retry-After while the account or
the address is locked). Public pages never wait behind any of it.

A user with a second factor is not signed in by the password: the answer
sends the browser to the code form (:mod:`lenta.web.two_factor`) with the
half-signed-in state of :mod:`lenta.web.pending`. Registration
(:mod:`lenta.web.register`) hashes a password too, behind the same gate.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from lenta import auth
from lenta import i18n
from lenta import plurals
from lenta.core import Lenta
from lenta.exceptions import LoginThrottledError
from lenta.types import User
from lenta.web import pending
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import current_user
from lenta.web.security import safe_destination
from lenta.web.security import sign_in
from lenta.web.security import sign_out
from lenta.web.security import site_settings_of

BUSY_RETRY_AFTER = 5  # seconds: a few hashes' time
HASHING_PATHS = frozenset({"/user/login", "/user/register"})  # the forms that hash a password
CODE_FORM = "/user/login/code"  # a sign-in's second step (lenta.web.two_factor)


class GateFull(Exception):
    """More sign-ins are waiting than :attr:`HashGate.QUEUE` allows."""


class HashGate:
    """At most ``slots`` password checks at once in this server, and at most
    ``queue`` more waiting for a slot; a waiting request holds no thread."""

    QUEUE = 32

    def __init__(self, slots: int = auth.MAX_CONCURRENT_HASHES, queue: int = QUEUE) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._queue = queue
        self._waiting = 0

    @property
    def full(self) -> bool:
        return self._waiting >= self._queue

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.full:
            raise GateFull
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


def _gate(request: Request) -> HashGate:
    gate: HashGate = request.app.state.hash_gate
    return gate


class SignInFloodGuard:
    """While the hash gate is full, a sign-in is answered 503 here, outside
    every other layer of the app: a flood is made of these, and each one
    otherwise costs the event loop the public pages share a pass through
    routing, the Host check and the form parser."""

    def __init__(self, app: ASGIApp, *, gate: HashGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.gate.full and scope["method"] == "POST" and scope["path"] in HASHING_PATHS:
            language = i18n.negotiate(Headers(scope=scope).get("accept-language"), "")
            text = i18n.translations(language).gettext("Too many people are signing in right now. Try again in a few seconds.")
            await _refusal_page(language, i18n.translations(language).gettext("Log in"), text, 503, BUSY_RETRY_AFTER)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)


def _refusal(request: Request, text: str, status: int, retry_after: int) -> Response:
    """A sign-in turned away before any password was checked: a page of a
    few lines, not the whole site's template, since floods are made of
    these and every one costs the event loop the public pages share."""
    return _refusal_page(request.state.language, gettext_for(request, "Log in"), text, status, retry_after)


def _refusal_page(language: str, title: str, text: str, status: int, retry_after: int) -> Response:
    body = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/static/lenta.css"></head><body><main id="main-content">'
        f'<h1 class="title">{escape(title)}</h1><div class="message message-error" role="alert">{escape(text)}'
        f'</div><p><a href="/user/login">{escape(title)}</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"Retry-After": str(retry_after)})


def home_of(user: User) -> str:
    """Where signing in leads when no page asked for it: an admin's pages, a reader's unread items."""
    return "/admin/config/services/aggregator" if user.is_admin else "/reader"


def login_form(request: Request) -> Response:
    destination = safe_destination(request.query_params.get("destination"), fallback="")
    user = current_user(request)
    if user is not None:
        return RedirectResponse(destination or home_of(user), status_code=303)
    return render(request, "user/login.html", login_context(request, destination, "", None))


def login_context(request: Request, destination: str, name: str, error: str | None) -> dict[str, object]:
    return {
        "destination": destination,
        "error": error,
        "name": name,
        "registration_open": site_settings_of(request).open_registration,
    }


async def login(request: Request) -> Response:
    form = await checked_form(request)
    gate = _gate(request)
    name = str(form.get("name", "")).strip()[:256]
    password = str(form.get("pass", ""))
    destination = safe_destination(form.get("destination"), fallback="")
    lenta: Lenta = request.app.state.lenta
    address = request.client.host if request.client else None

    wait = await run_in_threadpool(lenta.sign_in_wait, name, address=address)
    if wait is not None:  # refused before queueing for a hash: a flood on a locked account costs a read each
        return _refusal(
            request,
            plurals.sign_in_wait(i18n.translations(request.state.language), wait),
            429,
            wait,
        )
    try:
        async with gate.slot():
            user: User | None = await asyncio.get_running_loop().run_in_executor(
                auth.hash_pool(), functools.partial(lenta.sign_in, name, password, address=address)
            )
    except GateFull:
        return _refusal(
            request,
            gettext_for(request, "Too many people are signing in right now. Try again in a few seconds."),
            503,
            BUSY_RETRY_AFTER,
        )
    except LoginThrottledError as throttled:
        return _refusal(
            request,
            plurals.sign_in_wait(i18n.translations(request.state.language), throttled.retry_after),
            429,
            throttled.retry_after,
        )
    if user is None:
        error = gettext_for(request, "Sorry, unrecognized username or password.")
        return render(request, "user/login.html", login_context(request, destination, name, error), status_code=400)
    if (await run_in_threadpool(lenta.second_factor, user)).enabled:
        # The password was right; no session until the code is (lenta.web.two_factor).
        response = RedirectResponse(
            CODE_FORM + (f"?destination={quote(destination, safe='/')}" if destination else ""), status_code=303
        )
        pending.start(request, response, user)
        return response
    response = RedirectResponse(destination or home_of(user), status_code=303)
    sign_in(request, response, user)
    flash(request, gettext_for(request, "Signed in as {name}.", name=user.name))
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/aggregator", status_code=303)
    sign_out(request, response)
    return response
