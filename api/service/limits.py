"""ASGI middleware: body size (413, declared or chunked), time to first byte (504), security
headers on every response, and a last-resort boundary turning any escaped error into a problem."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.errors import PROBLEM_MEDIA_TYPE, classify_error

logger = logging.getLogger(__name__)

#: Security headers of every response. The care map pages are Folium output with inline scripts
#: and styles, hence 'unsafe-inline' for script-src and style-src; everything else comes from the
#: service itself ('self'), tiles and icons may be data:/blob: URLs; no framing by other sites.
def content_security_policy(scripts: str = "", images: str = "") -> str:
    """The policy, optionally allowing more script/style and image origins (map pages only).

    ``worker-src blob:``: ReDoc runs its search index in a worker built from a blob URL.
    """
    more_scripts = f" {scripts}" if scripts else ""
    more_images = f" {images}" if images else ""
    return (f"default-src 'self'; script-src 'self' 'unsafe-inline'{more_scripts}; "
            f"style-src 'self' 'unsafe-inline'{more_scripts}; "
            f"img-src 'self' data: blob:{more_images}; font-src 'self' data:{more_scripts}; "
            "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'self'")


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"same-origin"),
)


def _settings(scope: Scope) -> Any:
    return scope["app"].state.services.settings


async def _send_problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                       "instance": path}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class HttpMiddleware:
    """An ASGI middleware that passes anything but HTTP through and handles HTTP requests in
    :meth:`handle` (the shared shell of the service's middlewares)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch: HTTP to :meth:`handle`, lifespan and websockets straight to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (subclasses)."""
        await self.app(scope, receive, send)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuse bodies over CAREPLAN_MAX_UPLOAD_MB: by Content-Length up front, else while reading."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes actually received."""
        limit = _settings(scope).max_upload_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode() or "0"
        if declared.isdigit() and int(declared) > limit:
            await _send_problem(send, 413, "Upload too large",
                                f"request body of {int(declared)} bytes exceeds the limit of "
                                f"{limit} bytes (CAREPLAN_MAX_UPLOAD_MB)", scope["path"])
            return
        seen, over = 0, False

        async def counted() -> Message:
            nonlocal seen, over
            if over:  # the app keeps reading: it gets nothing more
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            # a body cut off at the limit makes the app answer 400 or fail; the client gets 413
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await _send_problem(send, 413, "Upload too large",
                                    f"request body exceeds the limit of {limit} bytes "
                                    "(CAREPLAN_MAX_UPLOAD_MB)", scope["path"])

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
            await guarded({"type": "http.response.start"})


class TimeoutMiddleware(HttpMiddleware):
    """Answer 504 when a request has not started its response within CAREPLAN_REQUEST_TIMEOUT_S."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; give up waiting for its first byte after the timeout."""
        started = asyncio.Event()

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched))
        waiter = asyncio.ensure_future(started.wait())
        timeout = _settings(scope).request_timeout_s
        done, _ = await asyncio.wait({task, waiter}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not done:
            task.cancel()
            await _send_problem(send, 504, "Request timeout",
                                f"no response within {timeout:g} s (CAREPLAN_REQUEST_TIMEOUT_S); "
                                "long analyses run as jobs: POST /processes/{id}/execution",
                                scope["path"])
            return
        await task


class SecurityHeadersMiddleware(HttpMiddleware):
    """Add :data:`SECURITY_HEADERS` to every HTTP response (a handler's own CSP wins)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; extend the response headers."""

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class ErrorBoundaryMiddleware(HttpMiddleware):
    """Answer any error that escaped the handlers with a problem (500, or 507/503 by its kind).

    Nothing is re-raised to the server, so the connection stays usable for the next request
    (Starlette's own error middleware re-raises, and the server then drops the keep-alive
    connection).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; on an escaped error send a problem if nothing was sent yet."""
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            status, title, detail = classify_error(exc)
            logger.error("unhandled error on %s", scope["path"], exc_info=status == 500)
            if not started:
                await _send_problem(send, status, title, detail, scope["path"])
