"""The helpdesk app under uvicorn, with a Server-Timing header added for the benchmark only.

Run as ``python bench/inbox_server.py PORT`` with ``HELPDESK_DATABASE_URL`` set. The
timer is the outermost ASGI layer, so it covers sessions, CSRF, the route, the queries
and the template rendering; it stops when the response headers go out (pages are
rendered in full before that).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import uvicorn

from helpdesk.web.app import create_app


class ServerTiming:
    """ASGI middleware: ``Server-Timing: app;dur=<ms>`` on every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={ms:.2f}".encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


def main() -> None:
    port = int(sys.argv[1])
    app = ServerTiming(create_app())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
