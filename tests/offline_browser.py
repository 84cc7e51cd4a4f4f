"""Open a page in headless Chromium with the internet cut off, and say what it drew.

Every request that is not ``file://``, ``data:`` or to the one allowed local server is aborted and
recorded; console errors and page errors are recorded. A test then asserts that nothing was
blocked, nothing errored and the page is not blank (issue 12: offline by default).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: What a Leaflet care map shows, measured in the page.
MAP_PROBE = """() => ({
  control: document.querySelectorAll('.leaflet-control-layers').length,
  overlays: Array.from(document.querySelectorAll(
      '.leaflet-control-layers-overlays label')).map(l => l.textContent.trim()),
  legend: (document.querySelector('.careplan-legend') || {}).textContent || '',
  paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
  polygons: Array.from(document.querySelectorAll('.leaflet-overlay-pane svg path'))
      .filter(p => /z\\s*$/i.test(p.getAttribute('d') || '')).length,
  background: document.querySelectorAll('.leaflet-careplanBackground-pane path').length,
  hatched: document.querySelectorAll('path[fill="url(#careplan-hatch)"]').length,
  markers: document.querySelectorAll('.leaflet-marker-pane .careplan-icon').length,
  banner: Array.from(document.querySelectorAll('.careplan-banner')).map(b => b.textContent),
  attribution: (document.querySelector('.leaflet-control-attribution') || {}).textContent || '',
  leaflet: window.L !== undefined,
})"""


def skip_reason() -> str | None:
    """Why browser tests cannot run here (``None`` when they can)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing: apt-get install -y chromium"
    if importlib.util.find_spec("playwright") is None:
        return "playwright missing: pip install playwright"
    return None


@dataclass
class Visit:
    """What happened while a page was open."""

    info: dict[str, object] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """Nothing left the machine, nothing errored."""
        assert self.blocked == [], f"requests to outside the machine: {self.blocked[:5]}"
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors


def visit(url: str, *, local: str | None = None, ready: str, probe: str = MAP_PROBE,
          wait_for: str | None = None, shot: Path | None = None, settle_ms: int = 300,
          timeout_ms: int = 30000, allow: tuple[str, ...] = ()) -> Visit:
    """Load ``url`` with only ``file://``, ``data:`` and ``local`` (a URL prefix) reachable.

    Parameters
    ----------
    url
        Page address (``file://...`` or under ``local``).
    local
        The allowed local server, e.g. ``http://127.0.0.1:8123``.
    ready
        JavaScript expression waited for (e.g. ``window.L !== undefined``).
    probe
        JavaScript function evaluated at the end; its result is :attr:`Visit.info`.
    wait_for
        A CSS selector waited for before probing.
    shot
        Where to save a screenshot.
    allow
        Further URL prefixes let through (only the ``live`` tests use it).
    """
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    result = Visit()

    def route(r: object) -> None:
        target: str = r.request.url  # type: ignore[attr-defined]
        if target.startswith(("file://", "data:", "blob:", *allow)) or (
                local and target.startswith(local)):
            r.continue_()  # type: ignore[attr-defined]
        else:
            result.blocked.append(target)
            r.abort()  # type: ignore[attr-defined]

    def console(msg: object) -> None:
        if msg.type == "error":  # type: ignore[attr-defined]
            result.console_errors.append(msg.text)  # type: ignore[attr-defined]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.on("pageerror", lambda exc: result.page_errors.append(str(exc)))
            page.on("console", console)
            page.route("**/*", route)
            page.goto(url, wait_until="load", timeout=timeout_ms)
            page.wait_for_function(f"() => {ready}", timeout=timeout_ms)
            if wait_for:
                page.wait_for_selector(wait_for, timeout=timeout_ms)
            page.wait_for_timeout(settle_ms)
            result.info = page.evaluate(probe)
            if shot is not None:
                page.screenshot(path=str(shot))
        finally:
            browser.close()
    return result
