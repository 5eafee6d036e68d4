"""Security headers on every response (a strict CSP with a fresh nonce,
framing and sniffing off, a referrer policy, HSTS on an https site) and the
Host header check, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from jinja2 import ChoiceLoader
from jinja2 import DictLoader
from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_web import ADMIN
from test_web import PASSWORD
from test_web import RSS
from test_web import client
from test_web import feed_xml
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.web import create_app
from lenta.web.headers import allowed_hosts
from lenta.web.render import render

EVERYWHERE = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return {name: value for name, _, value in (d.strip().partition(" ") for d in header.split(";"))}


def nonce_of(response: httpx.Response) -> str:
    [nonce] = [source[len("'nonce-") : -1] for source in policy(response)["script-src"].split() if source.startswith("'nonce-")]
    return nonce


def test_every_response_carries_the_security_headers(lenta: Lenta, settings: Settings) -> None:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    app = create_app(settings, lenta)

    def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.router.routes.append(Route("/broken", broken))
    with LocalServer({"/feed.xml": Reply(body=feed_xml(3), headers=RSS)}) as feeds, AppServer(app) as web, client(web) as http:
        asyncio.run(lenta.add_feed(feeds.url("/feed.xml")))
        asyncio.run(lenta.refresh(all_feeds=True))
        sign_in(http)
        html = {
            path: http.get(path) for path in ("/aggregator", "/aggregator/sources/1", ADMIN, f"{ADMIN}/settings", "/no/such/page")
        }
        html["403"] = http.post(f"{ADMIN}/add/feed", data={"url": "https://example.com/"})  # no CSRF token
        html["413"] = http.post(
            "/user/login", content=b"a" * 100_000, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        other = {
            path: http.get(path)
            for path in ("/", "/aggregator/rss", "/aggregator/opml", "/static/lenta.css", "/healthz", "/metrics")
        }
        other["/broken"] = http.get("/broken")  # last: uvicorn closes the connection after a failure
    assert [response.status_code for response in html.values()] == [200, 200, 200, 200, 404, 403, 413]
    assert [response.status_code for response in other.values()] == [302, 200, 200, 200, 200, 200, 500]
    for name, response in {**html, **other}.items():
        assert {key: response.headers.get(key) for key in EVERYWHERE} == EVERYWHERE, name
        assert "strict-transport-security" not in response.headers, name
    for name, response in html.items():
        assert response.headers["content-type"].startswith("text/html")
        directives = policy(response)
        assert directives["default-src"] == "'self'", name
        assert directives["script-src"] == f"'self' 'nonce-{nonce_of(response)}'"
        assert directives["style-src"] == "'self'"
        assert directives["img-src"] == directives["media-src"] == "'self' http: https:"
        assert (directives["object-src"], directives["base-uri"]) == ("'none'", "'none'")
        assert (directives["form-action"], directives["frame-ancestors"]) == ("'self'", "'none'")
        assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_every_response_has_a_nonce_of_its_own_and_templates_get_it(lenta: Lenta, settings: Settings) -> None:
    app = create_app(settings, lenta)
    templates = app.state.templates
    templates.loader = ChoiceLoader(
        [templates.loader, DictLoader({"inline.html": '<script nonce="{{ csp_nonce }}">document.title = "ok";</script>'})]
    )
    app.router.routes.append(Route("/inline", lambda request: render(request, "inline.html")))
    with AppServer(app) as web, client(web) as http:
        first, second = http.get("/inline"), http.get("/inline")
        pages = [http.get("/aggregator") for _ in range(3)]
    assert nonce_of(first) != nonce_of(second)
    assert f'nonce="{nonce_of(first)}"' in first.text and f'nonce="{nonce_of(second)}"' in second.text
    assert len({nonce_of(page) for page in pages}) == 3
    assert all(len(nonce_of(page)) >= 16 for page in pages)


def test_hsts_on_an_https_site(lenta: Lenta, settings: Settings) -> None:
    https = settings.replace(base_url="https://news.example")
    with AppServer(create_app(https, lenta)) as web, client(web) as http:
        page, rss = http.get("/aggregator"), http.get("/aggregator/rss")
    assert page.headers["strict-transport-security"] == rss.headers["strict-transport-security"] == "max-age=31536000"


# -- the Host header ------------------------------------------------------------------------------


def raw_status(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:80",
        "127.0.0.1.evil.example",
        "localhost.evil.example:8080",
        "[::2]:8080",
        "testserver.evil.example",
    ],
)
def test_a_forged_host_is_refused_and_never_reaches_the_rss(lenta: Lenta, settings: Settings, host: str) -> None:
    with LocalServer({"/feed.xml": Reply(body=feed_xml(2), headers=RSS)}) as feeds:
        asyncio.run(lenta.add_feed(feeds.url("/feed.xml")))
        asyncio.run(lenta.refresh(all_feeds=True))
    with AppServer(create_app(settings, lenta)) as web, client(web) as http:
        forged = [http.get(path, headers={"Host": host}) for path in ("/aggregator/rss", "/aggregator", ADMIN)]
        genuine = http.get("/aggregator/rss")
    assert [response.status_code for response in forged] == [400, 400, 400]
    assert all("Host header" in response.text and host not in response.text for response in forged)
    assert forged[0].headers["x-content-type-options"] == "nosniff"
    assert genuine.status_code == 200 and host.split(":")[0] not in genuine.text
    channel = etree.fromstring(genuine.content).find("channel")
    assert channel is not None and channel.findtext("link") == web.url("/aggregator")


def test_a_request_without_a_host_is_refused(lenta: Lenta, settings: Settings) -> None:
    with AppServer(create_app(settings, lenta)) as web:
        status, answer = raw_status(web.port, b"GET /aggregator/rss HTTP/1.0\r\n\r\n")
    assert status == 400 and b"Host header" in answer


def test_the_base_urls_host_passes_and_builds_the_links(lenta: Lenta, settings: Settings) -> None:
    site = settings.replace(base_url="http://news.example:8080/", allowed_hosts="")
    with AppServer(create_app(site, lenta)) as web, client(web) as http:
        named = http.get("/aggregator/rss", headers={"Host": "news.example:8080"})
        other_port = http.get("/aggregator", headers={"Host": "NEWS.example"})
        local = http.get("/aggregator/rss")
        forged = http.get("/aggregator/rss", headers={"Host": "evil.example"})
    assert named.status_code == other_port.status_code == 200
    assert etree.fromstring(named.content).findtext("channel/link") == "http://news.example:8080/aggregator"
    assert (local.status_code, forged.status_code) == (400, 400)


def test_the_allowed_hosts_setting(lenta: Lenta, settings: Settings) -> None:
    listed = settings.replace(base_url="https://news.example", allowed_hosts="news.internal, 10.0.0.7:8080,[fd00::7]")
    assert allowed_hosts(listed) == {"news.example", "news.internal", "10.0.0.7", "fd00::7"}
    with AppServer(create_app(listed, lenta)) as web, client(web) as http:
        answers = {
            host: http.get("/aggregator", headers={"Host": host}).status_code
            for host in ("news.internal", "10.0.0.7:8080", "[fd00::7]:80", "news.example", "127.0.0.1")
        }
    assert answers == {"news.internal": 200, "10.0.0.7:8080": 200, "[fd00::7]:80": 200, "news.example": 200, "127.0.0.1": 400}


def test_the_defaults_are_the_local_names(lenta: Lenta, tmp_path: Path) -> None:
    defaults = load_settings({}, db=str(tmp_path / "lenta.sqlite"), scheduler=False)
    assert (defaults.allowed_hosts, defaults.base_url, defaults.host) == ("", "", "127.0.0.1")
    assert allowed_hosts(defaults) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts(defaults.replace(host="0.0.0.0")) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts(defaults.replace(host="::")) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts(defaults.replace(host="192.168.1.5")) == {"localhost", "127.0.0.1", "::1", "192.168.1.5"}
    with AppServer(create_app(defaults, lenta)) as web, client(web) as http:
        answers = {
            host: http.get("/aggregator", headers={"Host": host}).status_code
            for host in (f"127.0.0.1:{web.port}", "127.0.0.1:8080", "localhost:8080", "[::1]:8080", "testserver", "evil.example")
        }
    assert answers == {
        f"127.0.0.1:{web.port}": 200,
        "127.0.0.1:8080": 200,
        "localhost:8080": 200,
        "[::1]:8080": 200,
        "testserver": 400,
        "evil.example": 400,
    }
