"""Message catalogs (gettext via Babel) and language negotiation.

Catalogs live in ``lenta/locale/<lang>/LC_MESSAGES/messages.po``; message
ids are the English strings, as in Drupal. The ``.po`` files are compiled
in memory when first used, so there is no build step. Strings outside
templates are marked with :func:`N_` (extracted, translated when shown).

Keep catalogs in step with the code: ``make messages`` re-extracts
``messages.pot`` and updates each ``.po``; ``tests/test_i18n.py`` fails
when a language lacks a translation.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from lenta._marks import N_
from lenta.exceptions import LentaError

__all__ = ["N_", "translations", "negotiate", "translate_error", "LANGUAGES"]

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES: tuple[str, ...] = ("en", "ru")
DEFAULT_LANGUAGE = "en"


@functools.cache
def _catalog(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalog of ``language`` (cached per process)."""
    buffer = io.BytesIO()
    write_mo(buffer, _catalog(language))
    buffer.seek(0)
    return Translations(buffer, domain="messages")


@functools.cache
def translated_messages(language: str) -> frozenset[str]:
    """The message ids ``language`` has a translation of: a stored message
    (an error's, kept from an older lenta) may be one no catalog knows now."""
    return frozenset(
        message.id if isinstance(message.id, str) else message.id[0]
        for message in _catalog(language)
        if message.id and message.string and not message.fuzzy
    )


@functools.cache
def locale(language: str) -> Locale:
    return Locale.parse(language)


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None, forced: str = "") -> str:
    """The UI language: ``forced`` if set, else the best match of the
    Accept-Language header among :data:`LANGUAGES`, else English."""
    if forced in LANGUAGES:
        return forced
    for tag in parse_accept_language(header):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def translate_error(error: LentaError, language: str) -> str:
    """An error's message in ``language`` (its English message id translated,
    then its arguments filled in). Outside of English an error that quotes
    outside words (a server's, a library's) shows its brief, without them."""
    if language != DEFAULT_LANGUAGE and error.brief_id:
        message: str = error.brief_id
    else:
        message = error.message_id
    text = translations(language).gettext(message) if message else str(error)
    try:
        return text.format(**error.args_for_message) if error.args_for_message else text
    except (KeyError, IndexError, ValueError):
        return str(error)
