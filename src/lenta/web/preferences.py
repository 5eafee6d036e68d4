"""A signed-in user's own page, ``/user/settings``: their language, time
zone and theme, how the reader lists items, and the way to their second
factor (:mod:`lenta.web.two_factor`).

The settings are read once per signed-in request, with the session
(:func:`lenta.web.security.user_settings_of`): the language there wins
over the browser's, :func:`lenta.web.render.render` shows times in the
zone and sets the theme's class on ``<html>``, and the reader's pages take
``per_page``, ``full_text`` and ``read_on_scroll`` from the same object.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta.core import Lenta
from lenta.exceptions import LentaError
from lenta.site_settings import time_zones
from lenta.types import User
from lenta.user_settings import MAX_PER_PAGE
from lenta.user_settings import MIN_PER_PAGE
from lenta.user_settings import THEMES
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import require_user
from lenta.web.security import site_settings_of

PAGE = "/user/settings"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}  # each in its own language, as language menus show them
_TEXT_FIELDS = ("language", "time_zone", "theme", "per_page")
_CHECKBOXES = ("full_text", "read_on_scroll")
TTRSS_API = "ttrss_api"  # not a setting: Lenta.ttrss_api_enabled keeps it


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _page(request: Request, user: User, values: dict[str, str], error: str | None, status_code: int = 200) -> Response:
    lenta = _lenta(request)
    context = {
        "values": values,
        "error": error,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in i18n.LANGUAGES],
        "themes": THEMES,
        "time_zones": time_zones(),
        "site_zone": str(site_settings_of(request).zone),
        "min_per_page": MIN_PER_PAGE,
        "max_per_page": MAX_PER_PAGE,
        "second_factor": lenta.second_factor(user),
    }
    return render(request, "user/settings.html", context, status_code=status_code)


def settings_form(request: Request) -> Response:
    user = require_user(request)
    lenta = _lenta(request)
    values = {**lenta.user_settings(user).to_strings(), TTRSS_API: "yes" if lenta.ttrss_api_enabled(user) else "no"}
    return _page(request, user, values, None)


def _submitted(form: FormData) -> dict[str, str]:
    # The form sends every field; an unticked box sends nothing, which is "no".
    values = {name: str(form.get(name, "")) for name in _TEXT_FIELDS if name in form}
    values.update({name: "yes" if form.get(name) == "yes" else "no" for name in _CHECKBOXES})
    return values


async def settings_save(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    values = _submitted(form)
    api_access = form.get(TTRSS_API) == "yes"
    lenta = _lenta(request)
    try:
        saved = lenta.save_user_settings(user, values)
    except LentaError as error:
        shown = {**lenta.user_settings(user).to_strings(), **values, TTRSS_API: "yes" if api_access else "no"}
        return _page(request, user, shown, i18n.translate_error(error, request.state.language), 400)
    lenta.set_ttrss_api_enabled(user, api_access)
    request.state.user_settings = saved
    # The message in the language just chosen.
    request.state.language = saved.language or i18n.negotiate(
        request.headers.get("accept-language"), request.app.state.settings.language
    )
    flash(request, gettext_for(request, "The changes have been saved."))
    return RedirectResponse(PAGE, status_code=303)
