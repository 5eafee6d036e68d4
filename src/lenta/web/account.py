"""Signing in and out (Drupal's /user/login)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta.core import Lenta
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import current_user
from lenta.web.security import safe_destination


def login_form(request: Request) -> Response:
    destination = safe_destination(request.query_params.get("destination"))
    if current_user(request) is not None:
        return RedirectResponse(destination, status_code=303)
    return render(request, "user/login.html", {"destination": destination, "error": None, "name": ""})


async def login(request: Request) -> Response:
    form = await checked_form(request)
    name = str(form.get("name", "")).strip()
    password = str(form.get("pass", ""))
    destination = safe_destination(form.get("destination"))
    lenta: Lenta = request.app.state.lenta
    user = await run_in_threadpool(lenta.authenticate, name, password)
    if user is None:
        error = gettext_for(request, "Sorry, unrecognized username or password.")
        return render(request, "user/login.html", {"destination": destination, "error": error, "name": name},
                      status_code=400)
    # A new session on sign-in: nothing from before survives (session fixation).
    request.session.clear()
    request.session["user"] = user.name
    flash(request, gettext_for(request, "Signed in as {name}.", name=user.name))
    return RedirectResponse(destination, status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/aggregator", status_code=303)
