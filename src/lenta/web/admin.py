"""Admin pages under /admin/config/services/aggregator (Drupal's paths).

Every handler starts with :func:`require_admin`; every POST goes through
:func:`checked_form` (CSRF). Domain errors in forms re-render the form
with the message; the rest map to HTTP errors in :mod:`lenta.web`.
"""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from lenta import i18n
from lenta import plurals
from lenta.core import Lenta
from lenta.exceptions import FetchError
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LentaError
from lenta.exceptions import ParseError
from lenta.i18n import N_
from lenta.site_settings import DISCARD_CHOICES
from lenta.site_settings import RIVER_FEED_ITEMS_CHOICES
from lenta.site_settings import SOURCE_ITEMS_CHOICES
from lenta.site_settings import TEASER_CHOICES
from lenta.site_settings import server_time_zone
from lenta.site_settings import time_zones
from lenta.types import REFRESH_CHOICES
from lenta.web.feed_filter import STATES
from lenta.web.feed_filter import FeedFilter
from lenta.web.params import form_ids
from lenta.web.params import parse_id
from lenta.web.params import path_id
from lenta.web.render import error_summary
from lenta.web.render import flash
from lenta.web.render import flash_all
from lenta.web.render import gettext_for
from lenta.web.render import render
from lenta.web.security import checked_form
from lenta.web.security import require_admin

ADMIN = "/admin/config/services/aggregator"
MAX_OPML_BYTES = 5 * 1024 * 1024


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def _id(request: Request, name: str) -> int:
    return path_id(request, name)


def _back(message: str | None = None, request: Request | None = None, path: str = ADMIN) -> RedirectResponse:
    if message and request is not None:
        flash(request, message)
    return RedirectResponse(path, status_code=303)


def _error_text(request: Request, error: LentaError) -> str:
    return i18n.translate_error(error, request.state.language)


def _field(form: FormData, name: str) -> str:
    """A text field of ``form`` ("" when absent). Values are typed ``str |
    UploadFile``; a file sent where text was expected is read as its str()."""
    return str(form.get(name, ""))


def _refresh_value(raw: str | None) -> int | None:
    """The refresh select: "" adaptive, "0" never, else seconds."""
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return -1  # rejected by the facade with a clear message
    return int(text)


def _category_ids(form: FormData) -> list[int]:
    return form_ids(form.getlist("categories"))


def _catalog(request: Request) -> Translations:
    """The request's language, for a message with a count:
    ``_catalog(request).ngettext("{n} feed", "{n} feeds", n).format(n=n)``
    (written out at each call, where ``make messages`` finds the strings)."""
    return i18n.translations(request.state.language)


def _wake_refresher(request: Request) -> None:
    """Feeds were made due: the background refresher, if this server runs
    one, starts a round now (without one, ``lenta worker`` takes them at its
    next look)."""
    refresher = getattr(request.app.state, "refresher", None)
    if refresher is not None:
        refresher.wake()


def overview(request: Request) -> Response:
    require_admin(request)
    lenta = _lenta(request)
    sort = request.query_params.get("sort", "title")
    everything = lenta.list_feeds()
    chosen = FeedFilter.from_params(request.query_params)
    feeds = chosen.apply(everything)
    if sort == "health":
        # Worst first: gone, then failing (longest streak first), then never checked, then healthy.
        feeds.sort(
            key=lambda f: (0 if f.gone else 1 if f.error else 2 if f.checked_at is None else 3, -f.error_count, f.title.lower())
        )
    context = {
        "feeds": feeds,
        "total": len(everything),
        "unfetched": sum(1 for feed in everything if feed.checked_at is None and not feed.gone),
        "feed_filter": chosen,
        "states": STATES,
        "bulk_actions": BULK_ACTIONS,
        "categories": lenta.list_categories(),
        "sort": sort,
    }
    return render(request, "admin/overview.html", context)


# -- feeds --------------------------------------------------------------


def _feed_form_context(request: Request, values: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    return {
        "values": values,
        "error": error,
        "refresh_choices": REFRESH_CHOICES,
        "categories": _lenta(request).list_categories(),
    }


def feed_add_form(request: Request) -> Response:
    require_admin(request)
    values = {"url": "", "title": "", "refresh": "", "categories": [], "force": False}
    return render(request, "admin/feed_form.html", {**_feed_form_context(request, values), "feed": None})


async def feed_add(request: Request) -> Response:
    """Add a feed and fetch it at once (:meth:`Lenta.add_and_fetch`): a URL
    that gives no feed is refused with the reason, unless "force" is ticked."""
    require_admin(request)
    form = await checked_form(request)
    url, title, refresh = _field(form, "url"), _field(form, "title"), _field(form, "refresh")
    category_ids = _category_ids(form)
    force = bool(form.get("force"))
    values: dict[str, Any] = {"url": url, "title": title, "refresh": refresh, "categories": category_ids, "force": force}
    lenta = _lenta(request)
    try:
        feed = await lenta.add_and_fetch(
            url, title=title or None, refresh=_refresh_value(refresh), category_ids=category_ids, force=force
        )
    except (FetchError, ParseError) as error:
        # Gives no feed: say why, and offer to keep it anyway.
        context = _feed_form_context(request, values, _error_text(request, error))
        return render(request, "admin/feed_form.html", {**context, "feed": None, "refused": True}, status_code=400)
    except LentaError as error:
        context = _feed_form_context(request, values, _error_text(request, error))
        return render(request, "admin/feed_form.html", {**context, "feed": None}, status_code=400)
    if feed.error:
        # The error itself is in the feed's row, in the reader's language.
        message = gettext_for(
            request,
            "The feed {title} has been added, but it could not be read (the table says why); it is tried again later.",
            title=feed.title,
        )
        flash(request, message, "warning")
        return _back(path=f"{ADMIN}#feed-{feed.id}")
    message = (
        _catalog(request)
        .ngettext(
            "The feed {title} has been added with {n} item.", "The feed {title} has been added with {n} items.", feed.item_count
        )
        .format(n=feed.item_count, title=feed.title)
    )
    return _back(message, request)


def feed_edit_form(request: Request) -> Response:
    require_admin(request)
    feed = _lenta(request).get_feed(_id(request, "feed_id"))
    values = {
        "url": feed.display_url,
        "title": feed.custom_title or "",
        "refresh": "" if feed.refresh is None else str(feed.refresh),
        "categories": list(feed.category_ids),
        "published": feed.published,
    }
    return render(request, "admin/feed_form.html", {**_feed_form_context(request, values), "feed": feed})


async def feed_edit(request: Request) -> Response:
    require_admin(request)
    lenta = _lenta(request)
    feed = lenta.get_feed(_id(request, "feed_id"))
    form = await checked_form(request)
    if form.get("op") == "delete":
        return RedirectResponse(f"{ADMIN}/edit/feed/{feed.id}/delete", status_code=303)
    url, title, refresh = _field(form, "url"), _field(form, "title"), _field(form, "refresh")
    category_ids = _category_ids(form)
    # Only a form that showed the box says anything about it (an unticked box sends nothing).
    published = form.get("published") == "1" if form.get("publishing") == "1" else feed.published
    values: dict[str, Any] = {
        "url": url,
        "title": title,
        "refresh": refresh,
        "categories": category_ids,
        "published": published,
    }
    try:
        changed = lenta.change_feed(
            feed.id, url=url, title=title or None, refresh=_refresh_value(refresh), category_ids=category_ids
        )
        if changed.published != published:
            changed = lenta.publish_feed(feed.id, published)
    except LentaError as error:
        context = _feed_form_context(request, values, _error_text(request, error))
        return render(request, "admin/feed_form.html", {**context, "feed": feed}, status_code=400)
    return _back(gettext_for(request, "The feed {title} has been updated.", title=changed.title), request)


def feed_delete_form(request: Request) -> Response:
    require_admin(request)
    feed = _lenta(request).get_feed(_id(request, "feed_id"))
    return render(
        request,
        "admin/confirm.html",
        {
            "question": gettext_for(request, "Are you sure you want to delete the feed {title}?", title=feed.title),
            "description": gettext_for(
                request, "Deleting a feed will delete all items received from this feed. This action cannot be undone."
            ),
            "action": f"{ADMIN}/edit/feed/{feed.id}/delete",
            "button": N_("Delete"),
        },
    )


async def feed_delete(request: Request) -> Response:
    require_admin(request)
    await checked_form(request)
    feed = _lenta(request).remove_feed(_id(request, "feed_id"))
    return _back(gettext_for(request, "The feed {title} has been deleted.", title=feed.title), request)


def feed_remove_items_form(request: Request) -> Response:
    require_admin(request)
    feed = _lenta(request).get_feed(_id(request, "feed_id"))
    return render(
        request,
        "admin/confirm.html",
        {
            "question": gettext_for(
                request, "Are you sure you want to remove all items from the feed {title}?", title=feed.title
            ),
            "description": gettext_for(request, "This action cannot be undone."),
            "action": f"{ADMIN}/remove/{feed.id}",
            "button": N_("Remove items"),
        },
    )


async def feed_remove_items(request: Request) -> Response:
    require_admin(request)
    await checked_form(request)
    lenta = _lenta(request)
    feed = lenta.get_feed(_id(request, "feed_id"))
    await run_in_threadpool(lenta.remove_items, feed.id)
    return _back(gettext_for(request, "The news items from {title} have been removed.", title=feed.title), request)


async def feed_update_items(request: Request) -> Response:
    require_admin(request)
    await checked_form(request)
    lenta = _lenta(request)
    feed = lenta.get_feed(_id(request, "feed_id"))
    summary = await lenta.refresh([feed.id])
    if summary.failed:
        failed = lenta.get_feed(feed.id)  # its error as stored: in the reader's language, not the summary's English
        error = error_summary(failed.error_kind, failed.error, failed.error_params, request.state.language)
        flash(request, gettext_for(request, "The feed from {title} failed: {error}", title=feed.title, error=error), "error")
        return _back()
    return _back(
        gettext_for(request, "There is new syndicated content from {title}.", title=feed.title)
        if summary.new_items or summary.updated_items
        else gettext_for(request, "There is no new syndicated content from {title}.", title=feed.title),
        request,
    )


def feed_health(request: Request) -> Response:
    """One feed's state and its recent fetches (time, outcome, status,
    duration, bytes, new and updated items, error)."""
    require_admin(request)
    lenta = _lenta(request)
    feed = lenta.get_feed(_id(request, "feed_id"))
    return render(
        request,
        "admin/health.html",
        {"feed": feed, "history": lenta.fetch_history(feed.id), "subscription": lenta.websub_subscription(feed.id)},
    )


# -- many feeds at once ---------------------------------------------------

BULK_ACTIONS = {
    "refresh": N_("Refresh now"),
    "move": N_("Move to category"),
    "add": N_("Add to category"),
    "delete": N_("Delete"),
}


async def feeds_bulk(request: Request) -> Response:
    """The feed table's bulk action on the ticked feeds, or on every feed
    the table's filter shows ("all shown"). Deleting asks first."""
    require_admin(request)
    form = await checked_form(request)
    lenta = _lenta(request)
    chosen = FeedFilter.from_params(form)
    back = f"{ADMIN}?{chosen.query()}" if chosen.active else ADMIN
    op = _field(form, "op")
    if form.get("all_shown"):
        feed_ids = [feed.id for feed in chosen.apply(lenta.list_feeds())]
    else:
        feed_ids = list(dict.fromkeys(form_ids(form.getlist("feeds"))))
    if op not in BULK_ACTIONS:
        flash(request, gettext_for(request, "Choose an action."), "error")
        return _back(path=back)
    if not feed_ids:
        flash(request, gettext_for(request, "Tick the feeds to act on first."), "error")
        return _back(path=back)
    if op == "delete":
        if form.get("confirm") != "1":
            return _bulk_delete_confirm(request, feed_ids, chosen)
        deleted = await run_in_threadpool(lenta.remove_feeds, feed_ids)
        return _back(
            _catalog(request).ngettext("Deleted {n} feed.", "Deleted {n} feeds.", deleted).format(n=deleted), request, back
        )
    if op == "refresh":
        queued = await run_in_threadpool(lenta.refresh_soon, feed_ids)
        _wake_refresher(request)
        message = (
            _catalog(request)
            .ngettext(
                "{n} feed is being refreshed in the background.", "{n} feeds are being refreshed in the background.", queued
            )
            .format(n=queued)
        )
        return _back(message, request, back)
    category_id = parse_id(_field(form, "category"))
    if category_id is None:
        flash(request, gettext_for(request, "Choose a category."), "error")
        return _back(path=back)
    category = lenta.get_category(category_id)
    changed = await run_in_threadpool(lambda: lenta.categorize_feeds(feed_ids, category.id, only=op == "move"))
    if op == "move":
        message = (
            _catalog(request)
            .ngettext("Moved {n} feed to {category}.", "Moved {n} feeds to {category}.", changed)
            .format(n=changed, category=category.title)
        )
    else:
        message = (
            _catalog(request)
            .ngettext("Added {n} feed to {category}.", "Added {n} feeds to {category}.", changed)
            .format(n=changed, category=category.title)
        )
    return _back(message, request, back)


def _bulk_delete_confirm(request: Request, feed_ids: list[int], chosen: FeedFilter) -> Response:
    wanted = set(feed_ids)
    feeds = [feed for feed in _lenta(request).list_feeds() if feed.id in wanted]
    return render(request, "admin/bulk_confirm.html", {"feeds": feeds, "feed_filter": chosen})


# -- categories ---------------------------------------------------------


def category_add_form(request: Request) -> Response:
    require_admin(request)
    return render(
        request, "admin/category_form.html", {"values": {"title": "", "description": ""}, "category": None, "error": None}
    )


async def category_add(request: Request) -> Response:
    require_admin(request)
    form = await checked_form(request)
    values = {"title": _field(form, "title"), "description": _field(form, "description")}
    try:
        found = _lenta(request).add_category(values["title"], values["description"])
    except LentaError as error:
        return render(
            request,
            "admin/category_form.html",
            {"values": values, "category": None, "error": _error_text(request, error)},
            status_code=400,
        )
    return _back(gettext_for(request, "The category {title} has been added.", title=found.title), request)


def category_edit_form(request: Request) -> Response:
    require_admin(request)
    found = _lenta(request).get_category(_id(request, "category_id"))
    return render(
        request,
        "admin/category_form.html",
        {"values": {"title": found.title, "description": found.description or ""}, "category": found, "error": None},
    )


async def category_edit(request: Request) -> Response:
    require_admin(request)
    lenta = _lenta(request)
    found = lenta.get_category(_id(request, "category_id"))
    form = await checked_form(request)
    if form.get("op") == "delete":
        return RedirectResponse(f"{ADMIN}/edit/category/{found.id}/delete", status_code=303)
    values = {"title": _field(form, "title"), "description": _field(form, "description")}
    try:
        changed = lenta.change_category(found.id, values["title"], values["description"])
    except LentaError as error:
        return render(
            request,
            "admin/category_form.html",
            {"values": values, "category": found, "error": _error_text(request, error)},
            status_code=400,
        )
    return _back(gettext_for(request, "The category {title} has been updated.", title=changed.title), request)


def category_delete_form(request: Request) -> Response:
    require_admin(request)
    found = _lenta(request).get_category(_id(request, "category_id"))
    return render(
        request,
        "admin/confirm.html",
        {
            "question": gettext_for(request, "Are you sure you want to delete the category {title}?", title=found.title),
            "description": gettext_for(request, "This action cannot be undone."),
            "action": f"{ADMIN}/edit/category/{found.id}/delete",
            "button": N_("Delete"),
        },
    )


async def category_delete(request: Request) -> Response:
    require_admin(request)
    await checked_form(request)
    lenta = _lenta(request)
    found = lenta.get_category(_id(request, "category_id"))
    lenta.delete_category(found.id)
    return _back(gettext_for(request, "The category {title} has been deleted.", title=found.title), request)


# -- OPML import ----------------------------------------------------------


def opml_form(request: Request) -> Response:
    require_admin(request)
    return render(request, "admin/opml_form.html", {"error": None, "url": ""})


async def opml_import(request: Request) -> Response:
    require_admin(request)
    # Read it whole first (lenta.web.limits cuts it off at the limit): the multipart
    # parser never sees, nor spools to disk, a body refused half-way.
    await request.body()
    form = await checked_form(request)
    try:
        return await _import_opml(request, form)
    finally:
        await form.close()


async def _import_opml(request: Request, form: FormData) -> Response:
    lenta = _lenta(request)
    upload = form.get("upload")
    url = _field(form, "remote").strip()
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_OPML_BYTES + 1)
            if len(data) > MAX_OPML_BYTES:
                raise InvalidInputError("The file is larger than {n} MB.", n=MAX_OPML_BYTES // (1024 * 1024))
        elif url:
            data = await lenta.fetch_document(url)
        else:
            return render(
                request,
                "admin/opml_form.html",
                {"error": gettext_for(request, "Either upload a file or enter a URL."), "url": url},
                status_code=400,
            )
        result = await run_in_threadpool(lenta.import_opml, data)
    except LentaError as error:
        return render(request, "admin/opml_form.html", {"error": _error_text(request, error), "url": url}, status_code=400)
    flash(
        request,
        plurals.import_report(
            _catalog(request),
            added=len(result.added),
            existing=len(result.existing),
            skipped=len(result.invalid),
            categories=len(result.categories_created),
        ),
    )
    flash_all(request, [f"{bad_url}: {why}" for bad_url, why in result.invalid], "warning")
    if result.added_ids:
        # Not fetched here: 500 feeds would hold the request for minutes. They
        # are due now; the refresher takes them at once, and the feed table
        # shows how many still wait (and, later, which failed and why).
        _wake_refresher(request)
        flash(
            request,
            _catalog(request)
            .ngettext(
                "{n} new feed is being fetched in the background; the table below shows its progress.",
                "{n} new feeds are being fetched in the background; the table below shows their progress.",
                len(result.added_ids),
            )
            .format(n=len(result.added_ids)),
        )
    return _back()


# -- settings -----------------------------------------------------------


def settings_form(request: Request) -> Response:
    require_admin(request)
    site = _lenta(request).site_settings()
    return render(
        request,
        "admin/settings.html",
        {
            "values": site.to_strings(),
            "error": None,
            "discard_choices": DISCARD_CHOICES,
            "source_items_choices": SOURCE_ITEMS_CHOICES,
            "teaser_choices": TEASER_CHOICES,
            "river_feed_items_choices": RIVER_FEED_ITEMS_CHOICES,
            "time_zones": time_zones(),
            "server_time_zone": server_time_zone(),
        },
    )


async def settings_save(request: Request) -> Response:
    require_admin(request)
    form = await checked_form(request)
    # A field the form did not send keeps its value (an older form, a script posting one setting).
    values = {
        name: _field(form, name)
        for name in (
            "allowed_html",
            "discard_after",
            "source_items",
            "site_name",
            "items_per_fetch",
            "time_zone",
            "teaser_length",
            "river_feed_items",
        )
        if name in form
    }
    if "open_registration" in form:  # a hidden "false", then the checkbox's "true" when it is ticked
        values["open_registration"] = "true" if "true" in form.getlist("open_registration") else "false"
    try:
        _lenta(request).save_site_settings(values)
    except LentaError as error:
        return render(
            request,
            "admin/settings.html",
            {
                "values": {**_lenta(request).site_settings().to_strings(), **values},
                "error": _error_text(request, error),
                "discard_choices": DISCARD_CHOICES,
                "source_items_choices": SOURCE_ITEMS_CHOICES,
                "teaser_choices": TEASER_CHOICES,
                "river_feed_items_choices": RIVER_FEED_ITEMS_CHOICES,
                "time_zones": time_zones(),
                "server_time_zone": server_time_zone(),
            },
            status_code=400,
        )
    return _back(gettext_for(request, "The configuration options have been saved."), request, f"{ADMIN}/settings")
