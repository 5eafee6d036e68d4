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
    try:
        health = _lenta(request).health()
    except StorageError as error:
        return JSONResponse({"status": "error", "database": str(error)}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": health.database,
            "feeds_due": health.feeds_due,
            "queue_lag_seconds": round(health.queue_lag_seconds, 1),
        }
    )


def metrics_page(request: Request) -> Response:
    return Response(metrics.render(_lenta(request).operator_figures()), media_type=metrics.CONTENT_TYPE)
