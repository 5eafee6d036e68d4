"""The container's HEALTHCHECK: ``GET /healthz`` from ``lenta serve`` inside it.

lenta answers only to the host names it is given (the ``Host`` header check,
see the README's Security section), so the request names one it answers to:
the first of ``LENTA_ALLOWED_HOSTS``, else the host of ``LENTA_BASE_URL``,
else ``localhost``. Exit status 0 when lenta says it is healthy (its
database answers), 1 otherwise, as ``docker`` expects. Standard library only.
"""

from __future__ import annotations

import http.client
import os
import sys
from urllib.parse import urlsplit


def host_header(environ: dict[str, str]) -> str:
    for name in environ.get("LENTA_ALLOWED_HOSTS", "").split(","):
        if name.strip():
            return name.strip()
    base = urlsplit(environ.get("LENTA_BASE_URL", "").strip())
    if base.netloc:
        return base.netloc.rpartition("@")[2]
    return "localhost"


def main() -> int:
    environ = dict(os.environ)
    port = int(environ.get("LENTA_PORT") or 8080)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host_header(environ)})
        response = connection.getresponse()
        body = response.read(4096).decode("utf-8", "replace")
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"unhealthy: {response.status} {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
