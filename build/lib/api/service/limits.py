"""ASGI middleware for request limits: body size (413) and time to first response byte (504)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.errors import PROBLEM_MEDIA_TYPE, ProblemError


def _settings(scope: Scope) -> Any:
    return scope["app"].state.services.settings


async def _send_problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                       "instance": path}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over CAREPLAN_MAX_UPLOAD_MB: by Content-Length up front, else while reading."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes actually received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = _settings(scope).max_upload_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode() or "0"
        if declared.isdigit() and int(declared) > limit:
            await _send_problem(send, 413, "Upload too large",
                                f"request body of {int(declared)} bytes exceeds the limit of "
                                f"{limit} bytes (CAREPLAN_MAX_UPLOAD_MB)", scope["path"])
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ProblemError(413, f"request body exceeds the limit of {limit} bytes "
                                      "(CAREPLAN_MAX_UPLOAD_MB)")
            return message

        await self.app(scope, counted, send)


class TimeoutMiddleware:
    """Answer 504 when a request has not started its response within CAREPLAN_REQUEST_TIMEOUT_S."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; give up waiting for its first byte after the timeout."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
