"""Every UI string is in every catalog, translated; the catalogs match the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from lenta import i18n

SRC = Path(i18n.__file__).parent
REPO = SRC.parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "gettext_for": (2,),
    "InvalidInputError": None,
    "InvalidFeedURLError": None,
    "OPMLError": None,
    "ParseError": None,
    "NotAFeedError": None,
    "FetchError": None,
    "LentaError": None,
}


def message_ids_in_code() -> set[str]:
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(SRC), method_map, options_map=options, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(language: str):  # type: ignore[no-untyped-def]
    with (SRC / "locale" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_in_the_code_is_translated(language: str) -> None:
    entries = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog(language) if m.id}
    missing = sorted(message_ids_in_code() - set(entries))
    assert missing == [], f"{language}: run `make messages` and translate {missing}"
    untranslated = sorted(
        key for key, m in entries.items() if (not all(m.string) if isinstance(m.string, tuple) else not m.string) or m.fuzzy
    )
    assert untranslated == [], f"{language}: untranslated or fuzzy: {untranslated}"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_catalogs_carry_no_stale_messages(language: str) -> None:
    stale = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(language) if m.id} - message_ids_in_code()
    assert stale == set()


def test_placeholders_survive_translation() -> None:
    import re

    pattern = re.compile(r"\{[^}]*\}|%\([a-z_]+\)s")
    for message in catalog("ru"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(pattern.findall(ids[0]))
        for string in strings:
            assert sorted(pattern.findall(string)) == expected, (message.id, string)


def test_russian_plural_forms() -> None:
    translations = i18n.translations("ru")
    forms = [translations.ngettext("%(num)s item", "%(num)s items", n) % {"num": n} for n in (1, 3, 5, 21, 11)]
    assert forms == ["1 запись", "3 записи", "5 записей", "21 запись", "11 записей"]


def test_drupal_russian_terms() -> None:
    ru = i18n.translations("ru")
    assert [ru.gettext(t) for t in ("You are here", "Feed aggregator", "Pages", "« first", "‹ previous", "next ›", "last »")] == [
        "Вы здесь",
        "Сборщик RSS-лент",
        "Страницы",
        "« первая",
        "‹ предыдущая",
        "следующая ›",
        "последняя »",
    ]


@pytest.mark.parametrize(
    ("header", "forced", "expected"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "", "en"),
        ("de, ru;q=0.5", "", "ru"),
        ("fr, de", "", "en"),
        ("ru;q=0, en", "", "en"),
        (None, "", "en"),
        ("garbage;;;q=x", "", "en"),
        ("en", "ru", "ru"),
    ],
)
def test_negotiation(header: str | None, forced: str, expected: str) -> None:
    assert i18n.negotiate(header, forced) == expected
