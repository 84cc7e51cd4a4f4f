"""CJK fonts for matplotlib figures, registered by file path.

matplotlib caches the fonts it found the first time it ran (``fontlist-*.json``) and does not rescan
when ``fonts-noto-cjk`` is installed later, so a name lookup alone draws every Chinese character as
an empty box ("Glyph ... missing from font(s) DejaVu Sans"). :func:`register_cjk_fonts` adds the
font files themselves (``font_manager.fontManager.addfont``) before a figure is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib import font_manager, rcParams

from planner.errors import PlannerError

#: Where Debian/Ubuntu (fonts-noto-cjk, fonts-wqy-zenhei), Fedora, macOS and Windows keep CJK fonts.
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/truetype/wqy", "/usr/share/fonts/wqy-zenhei",
    "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts",
)
#: File name patterns of sans-serif CJK fonts, in order of preference.
FONT_PATTERNS: tuple[str, ...] = (
    "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK*.ttc", "NotoSansSC*",
    "wqy-zenhei.ttc", "wqy-microhei.ttc", "PingFang.ttc", "msyh.ttc", "simhei.ttf",
)
#: Debian package that provides the preferred font.
DEBIAN_PACKAGE = "fonts-noto-cjk"

_registered: list[str] = []


class FontMissingError(PlannerError):
    """No CJK font file was found for figures with Chinese text."""


def find_cjk_font_files(dirs: Sequence[str | Path] = FONT_DIRS) -> list[Path]:
    """CJK font files present under ``dirs``, preferred first (no duplicates)."""
    found: list[Path] = []
    for pattern in FONT_PATTERNS:
        for folder in map(Path, dirs):
            if folder.is_dir():
                found.extend(p for p in sorted(folder.glob(pattern)) if p not in found)
    return found


def register_cjk_fonts(dirs: Sequence[str | Path] = FONT_DIRS) -> str:
    """Add the CJK font files to matplotlib and put the first family first in ``font.sans-serif``.

    Returns
    -------
    str
        The family name used for Chinese text (e.g. ``"Noto Sans CJK JP"``).

    Raises
    ------
    FontMissingError
        No CJK font file under ``dirs``; the message names the Debian package to install.
    """
    if _registered and tuple(dirs) == FONT_DIRS:
        _apply(_registered)
        return _registered[0]
    files = find_cjk_font_files(dirs)
    if not files:
        msg = (f"no Chinese (CJK) font found for report figures in {', '.join(map(str, dirs[:2]))}"
               f" ...; install the Debian package {DEBIAN_PACKAGE} (apt-get install "
               f"{DEBIAN_PACKAGE})")
        raise FontMissingError(msg)
    families: list[str] = []
    for path in files:
        font_manager.fontManager.addfont(str(path))
        name = font_manager.FontProperties(fname=str(path)).get_name()
        if name not in families:
            families.append(name)
    if tuple(dirs) == FONT_DIRS:
        _registered[:] = families
    _apply(families)
    return families[0]


def _apply(families: list[str]) -> None:
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [*families, "DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False
