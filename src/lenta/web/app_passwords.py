"""A user's app passwords and API keys (issue 12): what their reader apps
sign in with (lenta.api_keys). Made here, shown once, listed with their
last use, revoked one by one."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta.core import Lenta
from lenta.exceptions import LentaError
from lenta.web.params import path_id
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import require_user

APP_PASSWORDS = "/user/app-passwords"


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _page(request: Request, *, made: object = None, error: str | None = None, status: int = 200) -> Response:
    user = require_user(request)
    context = {"credentials": _lenta(request).credentials(user), "made": made, "error": error, "base_url": str(request.base_url)}
    response = render(request, "user/app_passwords.html", context, status_code=status)
    if made is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


def page(request: Request) -> Response:
    return _page(request)


async def create(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    kind = "api_key" if form.get("kind") == "api_key" else "app_password"
    try:
        made = await run_in_threadpool(_lenta(request).add_credential, user, str(form.get("name", "")), kind)
    except LentaError as error:
        return _page(request, error=i18n.translate_error(error, request.state.language), status=400)
    return _page(request, made=made)


async def revoke(request: Request) -> Response:
    user = require_user(request)
    credential_id = path_id(request, "credential_id")
    await checked_form(request)
    await run_in_threadpool(_lenta(request).revoke_credential, user, credential_id)
    return RedirectResponse(APP_PASSWORDS, status_code=303)
