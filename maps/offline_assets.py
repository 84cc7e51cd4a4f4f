"""Leaflet for pages that must work offline, read from the xstatic-leaflet package.

One small function so the lead can later point it at the bundle of issue 12 (``maps/static``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def leaflet_inline() -> tuple[str, str]:
    """Leaflet's CSS and minified JS as text, to inline into a self-contained HTML page.

    Raises
    ------
    RuntimeError
        xstatic-leaflet is not installed.
    """
    try:
        from xstatic.pkg import leaflet
    except ImportError as exc:  # pragma: no cover - a dependency
        msg = "the finder needs the xstatic-leaflet package; pip install xstatic-leaflet"
        raise RuntimeError(msg) from exc
    base = Path(leaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    return css, js.replace("</script", "<\\/script")
