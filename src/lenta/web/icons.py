"""Icons lenta serves: its own (``/favicon.ico``; pages link
``/static/favicon.svg``) and each feed's, from lenta's URL
``/aggregator/sources/{id}/icon``, never the remote one, so that reading a
page tells no third party who reads it.

A feed's icon URL carries its digest (``?v=…``, from
:meth:`lenta.core.Lenta.icon_versions`): with the right one the answer may
be cached for good, since a new icon is a new URL; without it, for a day.
Either way its ETag is the digest, and a matching If-None-Match is a 304.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lenta.core import Lenta
from lenta.web.favicon import favicon_ico
from lenta.web.params import path_id

FOREVER = "public, max-age=31536000, immutable"
A_DAY = "public, max-age=86400"
A_WEEK = "public, max-age=604800"


def favicon(request: Request) -> Response:
    """lenta's own icon, for browsers that ask ``/favicon.ico`` by habit."""
    return Response(favicon_ico(), media_type="image/x-icon", headers={"Cache-Control": A_WEEK})


def feed_icon(request: Request) -> Response:
    lenta: Lenta = request.app.state.lenta
    icon = lenta.feed_icon(path_id(request, "feed_id"), published_only=True)  # as the source's page: 404 if unpublished
    if icon is None:
        raise HTTPException(status_code=404)
    etag = f'"{icon.digest}"'
    headers = {
        "Cache-Control": FOREVER if request.query_params.get("v") == icon.digest else A_DAY,
        "ETag": etag,
    }
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    return Response(icon.data, media_type=icon.media_type, headers=headers)
