"""Signing in and out (Drupal's /user/login).

Checking a password is the most expensive thing a visitor can make lenta
do (Argon2: 64 MiB and a fifth of a second each). So a sign-in passes, in
order: the CSRF check; :class:`HashGate`, which lets
:data:`~lenta.auth.MAX_CONCURRENT_HASHES` checks run at once on threads of
their own and keeps at most :data:`HashGate.QUEUE` more waiting (the rest
get 503 at once, holding nothing); and the throttle in
:meth:`lenta.core.Lenta.sign_in` (429 with Retry-After while the account or
the address is locked). Public pages never wait behind any of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import auth
from lenta.core import Lenta
from lenta.exceptions import LoginThrottledError
from lenta.types import User
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import current_user
from lenta.web.security import safe_destination
from lenta.web.security import sign_in
from lenta.web.security import sign_out

BUSY_RETRY_AFTER = 5  # seconds: a few hashes' time


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

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._waiting >= self._queue:
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
    gate: HashGate | None = getattr(request.app.state, "hash_gate", None)
    if gate is None:
        gate = request.app.state.hash_gate = HashGate()
    return gate


def login_form(request: Request) -> Response:
    destination = safe_destination(request.query_params.get("destination"))
    if current_user(request) is not None:
        return RedirectResponse(destination, status_code=303)
    return render(request, "user/login.html", {"destination": destination, "error": None, "name": ""})


async def login(request: Request) -> Response:
    form = await checked_form(request)
    name = str(form.get("name", "")).strip()[:256]
    password = str(form.get("pass", ""))
    destination = safe_destination(form.get("destination"))
    lenta: Lenta = request.app.state.lenta
    address = request.client.host if request.client else None

    def refused(text: str, status: int, retry_after: int | None = None) -> Response:
        response = render(request, "user/login.html", {"destination": destination, "error": text, "name": name},
                          status_code=status)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    wait = await run_in_threadpool(lenta.sign_in_wait, name, address=address)
    if wait is not None:  # refused before queueing for a hash: a flood on a locked account costs a read each
        return refused(gettext_for(request, "Too many failed sign-in attempts. Try again in {seconds} seconds.",
                                   seconds=wait), 429, wait)
    try:
        async with _gate(request).slot():
            user: User | None = await run_in_threadpool(lenta.sign_in, name, password, address=address)
    except GateFull:
        return refused(gettext_for(request, "Too many people are signing in right now. Try again in a few seconds."),
                       503, BUSY_RETRY_AFTER)
    except LoginThrottledError as throttled:
        return refused(gettext_for(request, "Too many failed sign-in attempts. Try again in {seconds} seconds.",
                                   seconds=throttled.retry_after), 429, throttled.retry_after)
    if user is None:
        return refused(gettext_for(request, "Sorry, unrecognized username or password."), 400)
    response = RedirectResponse(destination, status_code=303)
    sign_in(request, response, user)
    flash(request, gettext_for(request, "Signed in as {name}.", name=user.name))
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/aggregator", status_code=303)
    sign_out(request, response)
    return response
