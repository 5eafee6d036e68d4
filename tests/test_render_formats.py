"""Numbers, sizes and durations on the pages, written by Babel as the page's
language writes them (issue 10): the template filters, and the numbers a
template passes to ``_()`` and ``ngettext``."""

from __future__ import annotations

import pytest

from lenta.web.render import _language
from lenta.web.render import format_duration
from lenta.web.render import format_number
from lenta.web.render import format_size
from lenta.web.render import make_environment

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("language", "number", "size", "big_size", "duration"),
    [
        ("en", "1,234,567", "512 byte", "1.5 MB", "1.92 sec"),
        ("ru", f"1{NBSP}234{NBSP}567", "512 Б", "1,5 МБ", "1,92 с"),
    ],
)
def test_filters_in_each_language(language: str, number: str, size: str, big_size: str, duration: str) -> None:
    assert format_number(1_234_567, language) == number
    assert format_size(512, language) == size
    assert format_size(1_500_000, language) == big_size
    assert format_duration(1.9234, language) == duration
    template = make_environment().from_string("{{ n|number }}|{{ b|size }}|{{ s|duration }}")
    token = _language.set(language)
    try:
        assert template.render(n=1_234_567, b=1_500_000, s=1.9234) == f"{number}|{big_size}|{duration}"
    finally:
        _language.reset(token)


def test_sizes_step_up_by_a_thousand() -> None:
    assert [format_size(n, "en") for n in (0, 999, 1000, 12_345, 999_999_999, 3 * 10**9)] == [
        "0 byte",
        "999 byte",
        "1 kB",
        "12.3 kB",
        "1 GB",
        "3 GB",
    ]


def test_numbers_given_to_gettext_and_ngettext_are_written_by_the_language() -> None:
    template = make_environment().from_string(
        '{{ _("Go to page %(n)s", n=n) }}|{{ ngettext("%(num)s item", "%(num)s items", n) }}|{{ _("Go to page %(n)s", n="x") }}'
    )
    token = _language.set("ru")
    try:
        assert template.render(n=12_345) == f"Перейти на страницу 12{NBSP}345|12{NBSP}345 записей|Перейти на страницу x"
        assert template.render(n=1) == "Перейти на страницу 1|1 запись|Перейти на страницу x"  # the form follows the number
    finally:
        _language.reset(token)
    token = _language.set("en")
    try:
        assert template.render(n=12_345) == "Go to page 12,345|12,345 items|Go to page x"
    finally:
        _language.reset(token)
