"""Sentences with counts, for the web pages and the command line alike.

Each count gets a sentence (or a clause) of its own, chosen by gettext's
``ngettext`` from the catalog of the reader's language, so each language's
plural rule applies: English has two forms (1 feed, 2 feeds), Russian three
(1 лента, 2 ленты, 5 лент, 21 лента), as the ``Plural-Forms`` header of
its ``.po`` file says. The strings are written out at each ``ngettext``
call, where ``make messages`` finds them.

The command line speaks English: it passes ``lenta.i18n.translations("en")``.
"""

from __future__ import annotations

from gettext import NullTranslations

from lenta.types import RefreshSummary


def import_report(catalog: NullTranslations, *, added: int, existing: int, skipped: int, categories: int) -> str:
    """What an OPML import did: feeds added, and, when there are any, feeds
    already present, entries skipped and categories created."""
    sentences = [catalog.ngettext("Imported {n} feed.", "Imported {n} feeds.", added).format(n=added)]
    if existing:
        sentences.append(
            catalog.ngettext("{n} feed was already present.", "{n} feeds were already present.", existing).format(n=existing)
        )
    if skipped:
        sentences.append(catalog.ngettext("{n} entry was skipped.", "{n} entries were skipped.", skipped).format(n=skipped))
    if categories:
        sentences.append(
            catalog.ngettext("{n} category was created.", "{n} categories were created.", categories).format(n=categories)
        )
    return " ".join(sentences)


def refresh_report(catalog: NullTranslations, summary: RefreshSummary) -> str:
    """A refresh round in one line: feeds by outcome, then items."""
    total = summary.ok + summary.not_modified + summary.failed
    feeds = catalog.ngettext(
        "{n} feed: {ok} ok, {not_modified} not modified, {failed} failed;",
        "{n} feeds: {ok} ok, {not_modified} not modified, {failed} failed;",
        total,
    ).format(n=total, ok=summary.ok, not_modified=summary.not_modified, failed=summary.failed)
    items = catalog.ngettext("{n} new item, {updated} updated", "{n} new items, {updated} updated", summary.new_items).format(
        n=summary.new_items, updated=summary.updated_items
    )
    return f"{feeds} {items}"


def sessions_ended(catalog: NullTranslations, count: int) -> str:
    """What a new secret key did to the sessions."""
    return catalog.ngettext(
        "New secret key stored; {n} session ended.", "New secret key stored; {n} sessions ended.", count
    ).format(n=count)


def sign_in_wait(catalog: NullTranslations, seconds: int) -> str:
    """Why a sign-in was refused before its password was checked."""
    return catalog.ngettext(
        "Too many failed sign-in attempts. Try again in {seconds} second.",
        "Too many failed sign-in attempts. Try again in {seconds} seconds.",
        seconds,
    ).format(seconds=seconds)


def registration_wait(catalog: NullTranslations, seconds: int) -> str:
    """Why a registration was refused before anything was checked."""
    return catalog.ngettext(
        "Too many accounts were requested from your address. Try again in {seconds} second.",
        "Too many accounts were requested from your address. Try again in {seconds} seconds.",
        seconds,
    ).format(seconds=seconds)


def rule_applied(catalog: NullTranslations, count: int) -> str:
    """What running a rule on the items already there did."""
    return catalog.ngettext("The rule changed {n} item.", "The rule changed {n} items.", count).format(n=count)


def reader_import(catalog: NullTranslations, *, added: int, already: int, skipped: int) -> str:
    """What a reader's OPML import did."""
    sentences = [catalog.ngettext("You now follow {n} more feed.", "You now follow {n} more feeds.", added).format(n=added)]
    if already:
        sentences.append(
            catalog.ngettext("You already followed {n} of them.", "You already followed {n} of them.", already).format(n=already)
        )
    if skipped:
        sentences.append(catalog.ngettext("{n} entry was skipped.", "{n} entries were skipped.", skipped).format(n=skipped))
    return " ".join(sentences)
