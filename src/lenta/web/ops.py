"""Endpoints for operators: /healthz (is it up, can it reach its database)
and /metrics (Prometheus)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response

from lenta import metrics
from lenta.core import Lenta
from lenta.exceptions import StorageError


def _lenta(request: Request) -> Lenta:
    lenta: Lenta = request.app.state.lenta
    return lenta


def healthz(request: Request) -> Response:
    lenta = _lenta(request)
    try:
        summary = lenta.storage.feeds.health_summary(lenta.clock())
    except StorageError as error:
        return JSONResponse({"status": "error", "database": str(error)}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": lenta.storage.dialect,
            "feeds_due": int(summary.get("due", 0)),
            "queue_lag_seconds": round(summary.get("lag", 0.0), 1),
        }
    )


def metrics_page(request: Request) -> Response:
    lenta = _lenta(request)
    return Response(metrics.render(lenta.storage, lenta.clock()), media_type=metrics.CONTENT_TYPE)
