"""Counts read right in both languages: "Imported 1 feed" (not "1 feeds"),
and Russian's three forms, 1 лента, 2 ленты, 5 лент, 21 лента, from the
real catalogs; then through the command line and the admin's OPML import."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from httpserver import LocalServer
from httpserver import Reply
from webserver import AppServer

from lenta import plurals
from lenta.cli import main
from lenta.config import Settings
from lenta.core import Lenta
from lenta.i18n import translations
from lenta.types import RefreshSummary
from lenta.web import create_app

EN = translations("en")
RU = translations("ru")


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "Imported 1 feed.", "Импортирована 1 лента."),
        (2, "Imported 2 feeds.", "Импортированы 2 ленты."),
        (5, "Imported 5 feeds.", "Импортировано 5 лент."),
        (21, "Imported 21 feeds.", "Импортирована 21 лента."),
        (0, "Imported 0 feeds.", "Импортировано 0 лент."),
        (11, "Imported 11 feeds.", "Импортировано 11 лент."),
    ],
)
def test_imported_feeds(n: int, english: str, russian: str) -> None:
    assert plurals.import_report(EN, added=n, existing=0, skipped=0, categories=0) == english
    assert plurals.import_report(RU, added=n, existing=0, skipped=0, categories=0) == russian


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (
            1,
            "Imported 1 feed. 1 feed was already present. 1 entry was skipped. 1 category was created.",
            "Импортирована 1 лента. Уже была добавлена 1 лента. Пропущен 1 элемент. Создана 1 категория.",
        ),
        (
            2,
            "Imported 2 feeds. 2 feeds were already present. 2 entries were skipped. 2 categories were created.",
            "Импортированы 2 ленты. Уже были добавлены 2 ленты. Пропущено 2 элемента. Создано 2 категории.",
        ),
        (
            5,
            "Imported 5 feeds. 5 feeds were already present. 5 entries were skipped. 5 categories were created.",
            "Импортировано 5 лент. Уже было добавлено 5 лент. Пропущено 5 элементов. Создано 5 категорий.",
        ),
        (
            21,
            "Imported 21 feeds. 21 feeds were already present. 21 entries were skipped. 21 categories were created.",
            "Импортирована 21 лента. Уже была добавлена 21 лента. Пропущен 21 элемент. Создана 21 категория.",
        ),
    ],
)
def test_every_count_of_an_import(n: int, english: str, russian: str) -> None:
    assert plurals.import_report(EN, added=n, existing=n, skipped=n, categories=n) == english
    assert plurals.import_report(RU, added=n, existing=n, skipped=n, categories=n) == russian


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (
            1,
            "1 feed: 1 ok, 0 not modified, 0 failed; 1 new item, 0 updated",
            "1 лента: успешно 1, без изменений 0, с ошибкой 0; 1 новая запись, обновлено 0",
        ),
        (
            2,
            "2 feeds: 2 ok, 0 not modified, 0 failed; 2 new items, 0 updated",
            "2 ленты: успешно 2, без изменений 0, с ошибкой 0; 2 новые записи, обновлено 0",
        ),
        (
            5,
            "5 feeds: 5 ok, 0 not modified, 0 failed; 5 new items, 0 updated",
            "5 лент: успешно 5, без изменений 0, с ошибкой 0; 5 новых записей, обновлено 0",
        ),
        (
            21,
            "21 feeds: 21 ok, 0 not modified, 0 failed; 21 new items, 0 updated",
            "21 лента: успешно 21, без изменений 0, с ошибкой 0; 21 новая запись, обновлено 0",
        ),
    ],
)
def test_refresh_summary(n: int, english: str, russian: str) -> None:
    summary = RefreshSummary(ok=n, not_modified=0, failed=0, new_items=n, updated_items=0)
    assert plurals.refresh_report(EN, summary) == english
    assert plurals.refresh_report(RU, summary) == russian


@pytest.mark.parametrize(
    ("n", "english", "russian_word"),
    [
        (1, "1 session ended.", "завершён 1 сеанс."),
        (2, "2 sessions ended.", "завершено 2 сеанса."),
        (5, "5 sessions ended.", "завершено 5 сеансов."),
        (21, "21 sessions ended.", "завершён 21 сеанс."),
    ],
)
def test_sessions_ended(n: int, english: str, russian_word: str) -> None:
    assert plurals.sessions_ended(EN, n) == f"New secret key stored; {english}"
    assert plurals.sessions_ended(RU, n) == f"Новый секретный ключ сохранён; {russian_word}"


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "1 second.", "1 секунду."),
        (2, "2 seconds.", "2 секунды."),
        (5, "5 seconds.", "5 секунд."),
        (21, "21 seconds.", "21 секунду."),
    ],
)
def test_sign_in_wait(n: int, english: str, russian: str) -> None:
    assert plurals.sign_in_wait(EN, n).endswith(f"Try again in {english}")
    assert plurals.sign_in_wait(RU, n).endswith(f"Повторите через {russian}")


def opml(*urls: str, folder: str = "News") -> bytes:
    outlines = "".join(f'<outline type="rss" text="{url}" xmlUrl="{url}"/>' for url in urls)
    return f'<?xml version="1.0"?><opml version="2.0"><body><outline text="{folder}">{outlines}</outline></body></opml>'.encode()


def test_lenta_import_says_one_feed(tmp_path: Path) -> None:
    with LocalServer({"/feed": Reply(body=b"<rss version='2.0'><channel><title>A</title></channel></rss>")}) as server:
        (tmp_path / "one.opml").write_bytes(opml(server.url("/feed")))
        env = {"LENTA_DB": str(tmp_path / "db.sqlite"), "LENTA_FETCH_ALLOW": "127.0.0.1"}
        result = CliRunner().invoke(main, ["import", str(tmp_path / "one.opml")], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Imported 1 feed. 1 category was created." in result.output


PASSWORD = "correct horse battery"


@pytest.fixture
def web(lenta: Lenta, settings: Settings) -> Iterator[AppServer]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with AppServer(create_app(settings, lenta)) as server:
        yield server


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "Imported 1 feed. 1 category was created.", "Imported 2 feeds. 1 feed was already present."),
        ("ru", "Импортирована 1 лента. Создана 1 категория.", "Импортированы 2 ленты. Уже была добавлена 1 лента."),
    ],
)
def test_the_admin_import_says_it_in_the_readers_language(web: AppServer, language: str, one: str, two: str) -> None:
    admin = "/admin/config/services/aggregator"
    with httpx.Client(base_url=web.url(""), headers={"Accept-Language": language}) as http:
        token = _token(http.get("/user/login").text)
        http.post("/user/login", data={"csrf_token": token, "name": "admin", "pass": PASSWORD})
        token = _token(http.get(f"{admin}/add/opml").text)
        first = opml("https://a.example/feed")
        http.post(f"{admin}/add/opml", data={"csrf_token": token}, files={"upload": ("a.opml", first, "text/x-opml")})
        shown = http.get(admin).text
        second = opml("https://a.example/feed", "https://b.example/feed", "https://c.example/feed")
        http.post(f"{admin}/add/opml", data={"csrf_token": token}, files={"upload": ("b.opml", second, "text/x-opml")})
        shown_again = http.get(admin).text
    assert one in shown
    assert two in shown_again


def test_the_command_lines_english_is_the_english_catalog() -> None:
    """The command line answers in English without loading the catalog
    (`lenta.cli._english` is gettext's bare object): that holds while every
    English entry reads as its message id and English keeps the n != 1 rule."""
    from lenta.i18n import _catalog

    catalog = _catalog("en")
    assert "n != 1" in (catalog.plural_expr or "").replace("(", "").replace(")", "")
    different = [
        message.id
        for message in catalog
        if message.id
        and message.string
        and tuple(message.string if isinstance(message.string, tuple) else (message.string,))
        != tuple(message.id if isinstance(message.id, tuple) else (message.id,))
    ]
    assert different == []
