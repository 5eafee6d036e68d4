"""Errors stored as their kind, message and arguments (issue 10): what a
FetchError becomes (its brief when it quotes outside words, only the
arguments the message names, each made fit for storage), how it is kept on
every backend (feeds and fetch log), and how it reads in each language,
old rows and junk included."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from lenta.exceptions import ErrorMessage
from lenta.exceptions import FetchError
from lenta.exceptions import FetchErrorKind
from lenta.exceptions import NotAFeedError
from lenta.exceptions import ParseError
from lenta.i18n import translate_error
from lenta.storage import open_storage
from lenta.storage._feeds import error_params_from_json
from lenta.storage.records import FeedChanges
from lenta.storage.records import FetchLogRecord
from lenta.types import FetchOutcome
from lenta.update.store import MAX_ERROR_ARG_LENGTH
from lenta.update.store import body_error
from lenta.update.store import error_params
from lenta.update.store import internal_error
from lenta.web.render import error_summary
from lenta.web.render import error_text

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def http_404() -> FetchError:
    return FetchError(
        "HTTP {code} {reason}", brief="HTTP {code}", kind=FetchErrorKind.HTTP_CLIENT, status=404, code=404, reason="Not Found"
    )


def test_an_error_is_stored_as_its_brief_with_the_arguments_it_names() -> None:
    error = http_404()
    assert str(error) == "HTTP 404 Not Found"  # the English text keeps the server's words
    assert error_params(error) == ErrorMessage("HTTP {code}", {"code": 404})  # the stored form does not
    too_large = FetchError("the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)", limit=20_971_520)
    assert error_params(too_large) == ErrorMessage(
        "the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)", {"limit": 20_971_520}
    )
    # A parser's error keeps its message and line and column through body_error, not only its text.
    parsed = body_error(
        ParseError(
            "The JSON document is invalid at line {line}, column {column}: {error}.",
            brief="The JSON document is invalid at line {line}, column {column}.",
            line=3,
            column=7,
            error="Expecting value",
        ),
        200,
    )
    assert parsed.kind == FetchErrorKind.PARSE and str(parsed).endswith(": Expecting value.")
    assert error_params(parsed) == ErrorMessage(
        "The JSON document is invalid at line {line}, column {column}.", {"line": 3, "column": 7}
    )
    not_a_feed = body_error(NotAFeedError("The document is an HTML page, not a feed."), 200)
    assert (not_a_feed.kind, error_params(not_a_feed)) == (
        FetchErrorKind.NOT_A_FEED,
        ErrorMessage("The document is an HTML page, not a feed."),
    )
    assert error_params(internal_error(RuntimeError("boom"))) == ErrorMessage("lenta failed while handling this feed.")


def test_stored_arguments_are_bounded_and_lose_credentials() -> None:
    location = "https://user:secret@example.com/" + "x" * 5000 + "\x00"
    stored = error_params(FetchError("redirect to an invalid URL: {location}", location=location))
    value = stored.args["location"]
    assert isinstance(value, str) and "secret" not in value and "\x00" not in value
    assert value.startswith("https://***@example.com/") and len(value) <= MAX_ERROR_ARG_LENGTH


def test_error_params_survive_every_backend(backend_url: str) -> None:
    storage = open_storage(backend_url)
    try:
        feed = storage.feeds.add("http://127.0.0.1:9/feed", now=NOW)
        error = http_404()
        stored = error_params(error)
        storage.feeds.change(feed.id, FeedChanges(error=str(error), error_kind=error.kind, error_params=stored))
        log = FetchLogRecord(
            at=NOW, outcome=FetchOutcome.of(error.kind), duration=0.5, status=404, error=str(error), error_params=stored
        )
        with storage.db.write() as connection:
            storage.feeds.log_fetches(connection, [(feed.id, log)])
        assert storage.feeds.get(feed.id).error_params == stored
        assert storage.feeds.fetch_history(feed.id)[0].error_params == stored
        storage.feeds.change(feed.id, FeedChanges(error=None, error_kind=None, error_params=None))
        assert storage.feeds.get(feed.id).error_params is None
    finally:
        storage.close()


def test_junk_in_the_column_reads_as_an_old_row() -> None:
    for junk in ("", "{", "[]", '{"message": 1, "args": {}}', '{"message": "x", "args": {"a": [1]}}', '{"message": "x"}'):
        assert error_params_from_json(junk) is None, junk
    assert error_params_from_json('{"message": "HTTP {code}", "args": {"code": 404}}') == ErrorMessage(
        "HTTP {code}", {"code": 404}
    )


def test_an_error_reads_in_each_language() -> None:
    error = http_404()
    stored = error_params(error)
    assert error_text(str(error), stored, "en") == "HTTP 404 Not Found"
    assert error_text(str(error), stored, "ru") == "HTTP 404"
    assert error_summary("http_4xx", str(error), stored, "ru") == "Ошибка HTTP (клиент): HTTP 404"
    # Numbers as Russian writes them, a format spec ("{seconds:g}") or not.
    deadline = FetchError(
        "gave up after the {seconds:g}s deadline (LENTA_FETCH_DEADLINE)", kind=FetchErrorKind.TIMEOUT, seconds=2.5
    )
    assert "2,5" in error_text(str(deadline), error_params(deadline), "ru")
    limit = FetchError("the response is larger than {limit} bytes (LENTA_FETCH_MAX_BYTES)", limit=20_971_520)
    assert (
        error_text(str(limit), error_params(limit), "ru")
        == "ответ больше 20\N{NO-BREAK SPACE}971\N{NO-BREAK SPACE}520 байт (LENTA_FETCH_MAX_BYTES)"
    )
    # An old row (no parameters) or a message no catalog knows: the label alone, never English.
    assert error_text("connection refused by 10.0.0.1:80", None, "ru") == ""
    assert error_text("connection refused by 10.0.0.1:80", None, "en") == "connection refused by 10.0.0.1:80"
    assert error_text("gone wording", ErrorMessage("a message lenta no longer has"), "ru") == ""
    assert error_summary("refused", "connection refused by 10.0.0.1:80", None, "ru") == "Соединение отклонено"
    # A form's error (adding a feed that gives none) is its brief outside English too.
    assert translate_error(error, "ru") == "HTTP 404" and translate_error(error, "en") == "HTTP 404 Not Found"


@pytest.mark.parametrize("message", ["{", "}", "a {b", "{0}", "{!r}"])
def test_an_error_whose_text_is_not_a_format_string_is_stored_as_it_is(message: str) -> None:
    stored = ErrorMessage.of(FetchError(message, kind=FetchErrorKind.HTTP_SERVER, status=500))
    assert stored.message == message and not stored.args
