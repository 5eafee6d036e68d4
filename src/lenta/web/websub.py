"""The WebSub callback: where hubs verify our requests and push content.

    GET  /websub/{token}?hub.mode=…&hub.topic=…&hub.challenge=…   intent verification
    POST /websub/{token}                                          content distribution

The token is the unguessable part of the callback URL; everything else is
decided by :meth:`lenta.core.Lenta.websub_verify` and
:meth:`lenta.core.Lenta.websub_deliver`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import Response

from lenta.core import Lenta
from lenta.websub import DeliveryKind
from lenta.websub import VerdictKind


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def verify(request: Request) -> Response:
    params = request.query_params
    verdict = _lenta(request).websub_verify(
        request.path_params["token"],
        mode=params.get("hub.mode"),
        topic=params.get("hub.topic"),
        challenge=params.get("hub.challenge"),
        lease_seconds=params.get("hub.lease_seconds"),
        reason=params.get("hub.reason"),
    )
    if verdict.kind == VerdictKind.REFUSE:
        raise HTTPException(status_code=404)
    if verdict.kind == VerdictKind.DENIED:
        return Response(status_code=200)
    return PlainTextResponse(params.get("hub.challenge", ""))


async def deliver(request: Request) -> Response:
    lenta = _lenta(request)
    token = request.path_params["token"]
    # Before the body is read: a push to a callback that does not exist costs nothing.
    if not lenta.websub_callback_exists(token):
        raise HTTPException(status_code=404)
    body = await request.body()  # at most LENTA_FETCH_MAX_BYTES: lenta.web.limits cuts it off there
    delivery = await lenta.websub_deliver(
        token,
        body,
        signature=request.headers.get("x-hub-signature"),
        content_type=request.headers.get("content-type"),
    )
    if delivery.kind == DeliveryKind.UNKNOWN:
        raise HTTPException(status_code=404)
    if delivery.kind == DeliveryKind.GONE:
        return Response(status_code=410)
    # Stored, or dropped for its signature: acknowledged alike (WebSub §8).
    return Response(status_code=202)
