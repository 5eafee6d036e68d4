"""User accounts on an admin page (Drupal's /admin/people): list, add,
change a password or the admin role, delete. What the CLI's ``lenta user``
commands do; the same rules hold (the last admin stays one), in the facade.

A password change or a deletion ends every session of that user; an
admin changing their own password keeps the session they did it from. The
admin can also reset a user's second factor (who lost their phone and
recovery codes): signing in then asks for the password only.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta.core import Lenta
from lenta.exceptions import LentaError
from lenta.i18n import N_
from lenta.types import User
from lenta.web.params import path_id
from lenta.web.render import flash
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import current_session
from lenta.web.security import require_admin

PEOPLE = "/admin/people"


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _user(request: Request) -> User:
    return _lenta(request).get_user_by_id(path_id(request, "user_id"))


def people(request: Request) -> Response:
    me = require_admin(request)
    return render(request, "admin/people.html", {"people": _lenta(request).list_users(), "me": me})


def add_form(request: Request) -> Response:
    require_admin(request)
    return render(request, "admin/user_form.html", {"account": None, "values": {"name": "", "admin": False}, "error": None})


async def add(request: Request) -> Response:
    require_admin(request)
    form = await checked_form(request)
    name, password, admin = str(form.get("name", "")), str(form.get("pass", "")), form.get("admin") == "1"
    try:
        created = await run_in_threadpool(_lenta(request).add_user, name, password, is_admin=admin)
    except LentaError as error:
        return render(
            request,
            "admin/user_form.html",
            {
                "account": None,
                "values": {"name": name, "admin": admin},
                "error": i18n.translate_error(error, request.state.language),
            },
            status_code=400,
        )
    flash(request, gettext_for(request, "Created a new user account for {name}.", name=created.name))
    return RedirectResponse(PEOPLE, status_code=303)


def edit_form(request: Request) -> Response:
    require_admin(request)
    account = _user(request)
    return render(
        request,
        "admin/user_form.html",
        {
            "account": account,
            "values": {"name": account.name, "admin": account.is_admin},
            "error": None,
            "second_factor": _lenta(request).second_factor(account),
        },
    )


async def edit(request: Request) -> Response:
    require_admin(request)
    account = _user(request)
    form = await checked_form(request)
    password, admin = str(form.get("pass", "")), form.get("admin") == "1"
    lenta = _lenta(request)
    session = current_session(request)
    try:
        if admin != account.is_admin:
            lenta.set_admin(account.name, admin)
        if form.get("reset_second_factor") == "1":
            lenta.reset_second_factor(account.name)
        if password:
            await run_in_threadpool(
                lenta.change_password,
                account.name,
                password,
                keep_session=session.id if session and session.user.id == account.id else None,
            )
    except LentaError as error:
        return render(
            request,
            "admin/user_form.html",
            {
                "account": account,
                "values": {"name": account.name, "admin": admin},
                "error": i18n.translate_error(error, request.state.language),
                "second_factor": lenta.second_factor(account),
            },
            status_code=400,
        )
    flash(request, gettext_for(request, "The changes have been saved."))
    return RedirectResponse(PEOPLE, status_code=303)


def delete_form(request: Request) -> Response:
    require_admin(request)
    account = _user(request)
    return render(
        request,
        "admin/confirm.html",
        {
            "question": gettext_for(request, "Are you sure you want to delete the account {name}?", name=account.name),
            "description": gettext_for(request, "Every session of this account ends. This action cannot be undone."),
            "action": f"{PEOPLE}/{account.id}/delete",
            "button": N_("Delete"),
            "cancel": PEOPLE,
        },
    )


async def delete(request: Request) -> Response:
    require_admin(request)
    account = _user(request)
    await checked_form(request)
    try:
        _lenta(request).delete_user(account.name)
    except LentaError as error:
        flash(request, i18n.translate_error(error, request.state.language), "error")
        return RedirectResponse(PEOPLE, status_code=303)
    flash(request, gettext_for(request, "The account {name} has been deleted.", name=account.name))
    return RedirectResponse(PEOPLE, status_code=303)
