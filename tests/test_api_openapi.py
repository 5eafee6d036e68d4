"""lenta's REST surface against its own OpenAPI description (issue 12):
schemathesis generates requests from /v1/openapi.json and checks every
answer (no server error, status codes and bodies as described)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from httpserver import LocalServer
from httpserver import Reply
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import ignored_auth
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import unsupported_method
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.api.openapi import document
from lenta.config import load_settings
from lenta.core import make_lenta
from lenta.web import create_app

schema = schemathesis.openapi.from_dict(document())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, str]]:
    root: Path = tmp_path_factory.mktemp("openapi")
    settings = load_settings(
        {},
        db=str(root / "lenta.sqlite"),
        fetch_allow="127.0.0.1,::1",
        scheduler=False,
        host_interval=0.0,
        allowed_hosts="localhost,127.0.0.1,::1,testserver",
    )
    lenta = make_lenta(settings)
    ann = lenta.add_user("ann", PASSWORD)
    key = lenta.add_credential(ann, "schemathesis", "api_key")
    with LocalServer({"/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS)}) as feeds:
        folder = lenta.reader(ann).add_folder("News")
        asyncio.run(lenta.reader(ann).follow(feeds.url("/alpha.xml"), folder_ids=[folder.id]))
        with AppServer(create_app(settings, lenta)) as web:
            yield web, key.secret
    lenta.close()


def test_the_description_is_served(served: tuple[AppServer, str]) -> None:
    web, _ = served
    answer = httpx.get(web.url("/v1/openapi.json"))
    assert answer.status_code == 200 and answer.json() == document()


@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_described(case: schemathesis.Case[Any], served: tuple[AppServer, str]) -> None:
    web, secret = served
    # ignored_auth sends wrong passwords until lenta's sign-in throttle answers
    # 429, which it counts as a failure; wrong and revoked credentials are
    # tested in test_api_miniflux.py.
    # unsupported_method: the paths described have more methods than the
    # description lists (see lenta.api.openapi), answered, not refused; and
    # some delete the fixture's feed, after which its entries are a 400, as
    # Miniflux answers for a feed that is not the user's (positive_data_acceptance).
    case.call_and_validate(
        base_url=web.url(""),
        headers={"X-Auth-Token": secret},
        excluded_checks=[ignored_auth, unsupported_method, positive_data_acceptance],
    )
