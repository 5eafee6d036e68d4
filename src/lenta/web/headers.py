"""Security headers on every response, and the Host header check.

:class:`SecurityHeadersMiddleware` gives each response a strict
Content-Security-Policy (scripts only from this site or with the
response's nonce, which templates get as ``csp_nonce``; images and media
from anywhere on the web, because feed content embeds them; no plugins,
no framing, forms post only here), ``X-Frame-Options: DENY``,
``X-Content-Type-Options: nosniff``, a Referrer-Policy, and HSTS when the
site's base URL is https. A header a handler set itself is left as it is.

:class:`HostCheckMiddleware` answers 400 to a request whose Host header is
not one of the site's names: links in RSS and redirects are built from it
when no base URL is set, and a forged one must not reach them.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from lenta.config import Settings

HSTS = "max-age=31536000"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# LENTA_HOST values that listen everywhere rather than name the site.
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "[::]"})


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' http: https:",
            "media-src 'self' http: https:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", content_security_policy(nonce))
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
                if self.hsts:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The host names the site answers to: LENTA_ALLOWED_HOSTS and the host
    of LENTA_BASE_URL; with neither, the local names and LENTA_HOST when it
    names one address."""
    names = {_host_name(name) for name in settings.allowed_hosts.split(",")}
    if settings.base_url:
        names.add(_host_name(urlsplit(settings.base_url).netloc))
    names.discard("")
    if not names:
        names = set(LOCAL_HOSTS)
        if settings.host.strip().lower() not in _ANY_ADDRESS:
            names.add(_host_name(settings.host))
    return frozenset(names)


def _host_name(value: str) -> str:
    """The host of a Host header value or a ``host[:port]`` entry, lowercased,
    without the port or an IPv6 address's brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") > 1:  # a bare IPv6 address
        return value
    return value.split(":", 1)[0].rstrip(".")


class HostCheckMiddleware:
    def __init__(self, app: ASGIApp, *, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = _host_name(Headers(scope=scope).get("host", ""))
            if host not in self.hosts:
                response = PlainTextResponse(
                    "Bad Request: this site does not answer to the host name in the request's Host header. "
                    "Its names are set by LENTA_BASE_URL and LENTA_ALLOWED_HOSTS.\n",
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
