"""The web UI: ``create_app(settings)`` builds the Starlette application.

Handlers live by area (:mod:`.public`, :mod:`.admin`, :mod:`.account`);
domain errors are mapped to HTTP here, in one place. Around them, for the
open internet: the Host check and the security headers (:mod:`.headers`)
and the request body limits (:mod:`.limits`). With
``settings.scheduler`` on, the app's lifespan starts the background
refresher as a child process (:class:`lenta.scheduler.RefresherProcess`),
so that fetching and parsing never share the pages' event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Mount
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from lenta import i18n
from lenta.api import fever
from lenta.api import greader
from lenta.api import miniflux
from lenta.api import nextcloud
from lenta.api import ttrss
from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import CategoryNotFoundError
from lenta.exceptions import FeedNotFoundError
from lenta.exceptions import LentaError
from lenta.exceptions import NotFollowingError
from lenta.exceptions import UserNotFoundError
from lenta.i18n import N_
from lenta.scheduler import RefresherProcess
from lenta.web import account
from lenta.web import admin
from lenta.web import app_passwords
from lenta.web import icons
from lenta.web import ops
from lenta.web import people
from lenta.web import preferences
from lenta.web import public
from lenta.web import reader
from lenta.web import register
from lenta.web import two_factor
from lenta.web import views
from lenta.web import websub
from lenta.web.account import HashGate
from lenta.web.account import SignInFloodGuard
from lenta.web.admin import ADMIN
from lenta.web.app_passwords import APP_PASSWORDS
from lenta.web.headers import HostCheckMiddleware
from lenta.web.headers import SecurityHeadersMiddleware
from lenta.web.headers import allowed_hosts
from lenta.web.limits import BodyLimitMiddleware
from lenta.web.people import PEOPLE
from lenta.web.reader import READER
from lenta.web.render import make_environment
from lenta.web.render import render
from lenta.web.security import LoginRequired
from lenta.web.security import login_url

STATIC_DIR = Path(__file__).with_name("static")


class LanguageMiddleware:
    """Sets ``request.state.language`` from LENTA_LANGUAGE or Accept-Language."""

    def __init__(self, app: ASGIApp, forced: str) -> None:
        self.app = app
        self.forced = forced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = Headers(scope=scope).get("accept-language")
            scope.setdefault("state", {})["language"] = i18n.negotiate(header, self.forced)
        await self.app(scope, receive, send)


def _routes() -> list[Route | Mount]:
    return [
        Route("/", public.home),
        Route("/aggregator", public.aggregator),
        Route("/aggregator/sources", public.sources),
        Route("/aggregator/sources/{feed_id}", public.source),
        Route("/aggregator/sources/{feed_id}/icon", icons.feed_icon),
        Route("/aggregator/categories", public.categories),
        Route("/aggregator/categories/{category_id}", public.category),
        Route("/aggregator/rss", public.rss),
        Route("/aggregator/opml", public.opml),
        Route("/favicon.ico", icons.favicon),
        Route("/healthz", ops.healthz),
        Route("/metrics", ops.metrics_page),
        Route("/user/login", account.login_form, methods=["GET"]),
        Route("/user/login", account.login, methods=["POST"]),
        Route("/user/logout", account.logout, methods=["POST"]),
        Route("/user/login/code", two_factor.code_form, methods=["GET"]),
        Route("/user/login/code", two_factor.code, methods=["POST"]),
        Route("/user/register", register.register_form, methods=["GET"]),
        Route("/user/register", register.register, methods=["POST"]),
        Route("/user/settings", preferences.settings_form, methods=["GET"]),
        Route("/user/settings", preferences.settings_save, methods=["POST"]),
        Route(APP_PASSWORDS, app_passwords.page, methods=["GET"]),
        Route(APP_PASSWORDS, app_passwords.create, methods=["POST"]),
        Route(f"{APP_PASSWORDS}/{{credential_id}}/revoke", app_passwords.revoke, methods=["POST"]),
        Route("/user/two-factor", two_factor.page, methods=["GET"]),
        Route("/user/two-factor/enable", two_factor.enable, methods=["POST"]),
        Route("/user/two-factor/disable", two_factor.disable, methods=["POST"]),
        Route(ADMIN, admin.overview),
        Route(f"{ADMIN}/add/feed", admin.feed_add_form, methods=["GET"]),
        Route(f"{ADMIN}/add/feed", admin.feed_add, methods=["POST"]),
        Route(f"{ADMIN}/edit/feed/{{feed_id}}", admin.feed_edit_form, methods=["GET"]),
        Route(f"{ADMIN}/edit/feed/{{feed_id}}", admin.feed_edit, methods=["POST"]),
        Route(f"{ADMIN}/edit/feed/{{feed_id}}/delete", admin.feed_delete_form, methods=["GET"]),
        Route(f"{ADMIN}/edit/feed/{{feed_id}}/delete", admin.feed_delete, methods=["POST"]),
        Route(f"{ADMIN}/remove/{{feed_id}}", admin.feed_remove_items_form, methods=["GET"]),
        Route(f"{ADMIN}/remove/{{feed_id}}", admin.feed_remove_items, methods=["POST"]),
        Route(f"{ADMIN}/update/{{feed_id}}", admin.feed_update_items, methods=["POST"]),
        Route(f"{ADMIN}/bulk", admin.feeds_bulk, methods=["POST"]),
        Route(f"{ADMIN}/add/category", admin.category_add_form, methods=["GET"]),
        Route(f"{ADMIN}/add/category", admin.category_add, methods=["POST"]),
        Route(f"{ADMIN}/edit/category/{{category_id}}", admin.category_edit_form, methods=["GET"]),
        Route(f"{ADMIN}/edit/category/{{category_id}}", admin.category_edit, methods=["POST"]),
        Route(f"{ADMIN}/edit/category/{{category_id}}/delete", admin.category_delete_form, methods=["GET"]),
        Route(f"{ADMIN}/edit/category/{{category_id}}/delete", admin.category_delete, methods=["POST"]),
        Route(f"{ADMIN}/add/opml", admin.opml_form, methods=["GET"]),
        Route(f"{ADMIN}/add/opml", admin.opml_import, methods=["POST"]),
        Route(f"{ADMIN}/health/{{feed_id}}", admin.feed_health),
        Route(f"{ADMIN}/settings", admin.settings_form, methods=["GET"]),
        Route(f"{ADMIN}/settings", admin.settings_save, methods=["POST"]),
        Route(PEOPLE, people.people),
        Route(f"{PEOPLE}/add", people.add_form, methods=["GET"]),
        Route(f"{PEOPLE}/add", people.add, methods=["POST"]),
        Route(f"{PEOPLE}/{{user_id}}/edit", people.edit_form, methods=["GET"]),
        Route(f"{PEOPLE}/{{user_id}}/edit", people.edit, methods=["POST"]),
        Route(f"{PEOPLE}/{{user_id}}/delete", people.delete_form, methods=["GET"]),
        Route(f"{PEOPLE}/{{user_id}}/delete", people.delete, methods=["POST"]),
        Route(READER, reader.unread),
        Route(f"{READER}/all", reader.everything),
        Route(f"{READER}/starred", reader.starred),
        Route(f"{READER}/search", reader.search),
        Route(f"{READER}/feeds/{{subscription_id}}", reader.feed),
        Route(f"{READER}/folders/{{folder_id}}", reader.folder),
        Route(f"{READER}/items/{{item_id}}", reader.item),
        Route(f"{READER}/items/{{item_id}}/mark", reader.mark, methods=["POST"]),
        Route(f"{READER}/mark-all-read", reader.mark_all_read, methods=["POST"]),
        Route(f"{READER}/subscriptions", reader.subscriptions, methods=["GET"]),
        Route(f"{READER}/subscriptions", reader.follow, methods=["POST"]),
        Route(f"{READER}/subscriptions.opml", reader.export_opml, methods=["GET"]),
        Route(f"{READER}/subscriptions/import", reader.import_opml, methods=["POST"]),
        Route(f"{READER}/subscriptions/{{subscription_id}}", reader.change_subscription, methods=["POST"]),
        Route(f"{READER}/subscriptions/{{subscription_id}}/delete", reader.unfollow, methods=["POST"]),
        Route(f"{READER}/folders", reader.add_folder, methods=["POST"]),
        Route(f"{READER}/folders/{{folder_id}}/edit", reader.change_folder, methods=["POST"]),
        Route(f"{READER}/folders/{{folder_id}}/delete", reader.delete_folder, methods=["POST"]),
        Route(f"{READER}/tags/{{tag_id}}", reader.tagged, methods=["GET"]),
        Route(f"{READER}/tags/{{tag_id}}/edit", reader.change_tag, methods=["POST"]),
        Route(f"{READER}/tags/{{tag_id}}/delete", reader.delete_tag, methods=["POST"]),
        Route(f"{READER}/items/{{item_id}}/tags", reader.tag_item, methods=["POST"]),
        Route(f"{READER}/rules", reader.rules_list, methods=["GET"]),
        Route(f"{READER}/rules", reader.add_rule, methods=["POST"]),
        Route(f"{READER}/rules/{{rule_id}}", reader.rule_page, methods=["GET"]),
        Route(f"{READER}/rules/{{rule_id}}/run", reader.run_rule, methods=["POST"]),
        Route(f"{READER}/rules/{{rule_id}}/delete", reader.delete_rule, methods=["POST"]),
        Route(views.VIEWS, views.manage, methods=["GET"]),
        Route(views.VIEWS, views.save, methods=["POST"]),
        Route(f"{views.VIEWS}/{{view_id}}/edit", views.rename, methods=["POST"]),
        Route(f"{views.VIEWS}/{{view_id}}/publish", views.publish, methods=["POST"]),
        Route(f"{views.VIEWS}/{{view_id}}/revoke", views.revoke, methods=["POST"]),
        Route(f"{views.VIEWS}/{{view_id}}/delete", views.delete, methods=["POST"]),
        # The feeds before the page: "/views/{token}" would take "abc.rss" as a token.
        Route("/views/{token}.rss", views.rss),
        Route("/views/{token}.atom", views.atom),
        Route("/views/{token}.json", views.json_feed),
        Route("/views/{token}", views.page),
        Route("/websub/{token}", websub.verify, methods=["GET"]),
        Route("/websub/{token}", websub.deliver, methods=["POST"]),
        *miniflux.routes(),
        *ttrss.routes(),
        *nextcloud.routes(),
        *greader.routes(),
        *fever.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        {"status": 404, "title": N_("Page not found"), "text": N_("The requested page could not be found.")},
        status_code=404,
    )


_REFUSALS = {
    413: (N_("Request too large"), N_("The data sent is larger than this page accepts.")),
    415: (N_("Unsupported request"), N_("This page does not accept data in this form.")),
}


def _refusal(request: Request, status: int) -> Response:
    """The page for a body refused by its size or type (see :mod:`lenta.web.limits`)."""
    title, text = _REFUSALS[status]
    return render(request, "error.html", {"status": status, "title": title, "text": text}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await _not_found(request, exc)
    if exc.status_code in _REFUSALS:
        return _refusal(request, exc.status_code)
    if exc.status_code == 403:
        text = (
            N_("The form has expired or did not come from this site. Reload the page and try again.")
            if exc.detail == "csrf"
            else N_("You are not authorized to access this page.")
        )
        return render(request, "error.html", {"status": 403, "title": N_("Access denied"), "text": text}, status_code=403)
    if exc.status_code == 405:
        return Response("Method Not Allowed", status_code=405, headers=exc.headers)
    return Response(str(exc.detail), status_code=exc.status_code)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.destination), status_code=303)


async def _lenta_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LentaError)
    return render(
        request,
        "error.html",
        {"status": 400, "title": N_("Error"), "text": i18n.translate_error(exc, request.state.language)},
        status_code=400,
    )


class _App(Starlette):
    """Starlette with the security headers outside everything it does,
    the 500 answer of its ServerErrorMiddleware included."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        guarded = SignInFloodGuard(super().build_middleware_stack(), gate=self.state.hash_gate)
        return SecurityHeadersMiddleware(guarded, hsts=settings.base_url.startswith("https://"))


def create_app(settings: Settings, lenta: Lenta | None = None) -> Starlette:
    """Build the web application over ``lenta`` (opened from ``settings`` if None)."""
    lenta = lenta or make_lenta(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        refresher = RefresherProcess(settings) if settings.scheduler else None
        app.state.refresher = refresher  # woken by the admin pages when they make feeds due
        if refresher is not None:
            await refresher.start()
        try:
            yield
        finally:
            if refresher is not None:
                await refresher.stop()

    exception_handlers: dict[Any, Any] = {
        HTTPException: _http_error,
        FeedNotFoundError: _not_found,
        CategoryNotFoundError: _not_found,
        UserNotFoundError: _not_found,
        NotFollowingError: _not_found,  # another user's ids are not found, whether or not they exist
        LoginRequired: _login_required,
        LentaError: _lenta_error,
    }
    middleware = [
        Middleware(HostCheckMiddleware, hosts=allowed_hosts(settings)),
        Middleware(LanguageMiddleware, forced=settings.language),
        # Innermost: its refusals are pages in the visitor's language.
        Middleware(BodyLimitMiddleware, refuse=_refusal),
    ]
    app = _App(routes=_routes(), middleware=middleware, exception_handlers=exception_handlers, lifespan=lifespan)
    app.state.lenta = lenta
    app.state.settings = settings
    app.state.templates = make_environment()
    app.state.hash_gate = HashGate()
    return app
