"""Name search for the finder: Chinese substrings and pinyin initials (拼音首字母).

A query of Latin letters matches the initials of a name (``ylsq`` finds 玉林社区) and also the
name itself (``Wanda``); any other query matches as a substring of the name. Ranking: exact name,
then names starting with the query, then the rest; shorter names first, then by kind and name.

Examples
--------
>>> index = build_search_index([("玉林社区", "unit", 104.0, 30.6, "u1"),
...                              ("玉林东路", "street", 104.1, 30.6, "s1")])
>>> [h.name for h in search(index, "ylsq")], [h.name for h in search(index, "玉林")]
(['玉林社区'], ['玉林东路', '玉林社区'])
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

_LATIN = re.compile(r"^[a-z0-9 ]+$")
MAX_RESULTS = 20


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """A searchable name: what it is and where (WGS-84)."""

    name: str
    kind: str
    lon: float
    lat: float
    ref: str
    key: str
    initials: str


def initials(name: str) -> str:
    """Pinyin initials of the Chinese characters, other letters and digits kept (lower case)."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(p for p in "".join(letters).lower() if p.isalnum())


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def build_search_index(rows: Iterable[tuple[str, str, float, float, str]]) -> list[SearchEntry]:
    """Entries from ``(name, kind, lon, lat, ref)`` rows; empty names and exact repeats dropped."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for name, kind, lon, lat, ref in rows:
        name = str(name).strip()
        if not name or (name, kind, ref) in seen:
            continue
        seen.add((name, kind, ref))
        out.append(SearchEntry(name, kind, float(lon), float(lat), ref, _norm(name),
                               initials(name)))
    return out


def search(index: list[SearchEntry], query: str, limit: int = MAX_RESULTS) -> list[SearchEntry]:
    """Entries matching ``query`` (see the module docstring), best first, at most ``limit``."""
    q = _norm(query)
    if not q:
        return []
    latin = bool(_LATIN.match(q))
    q_compact = q.replace(" ", "")
    scored = []
    for entry in index:
        if q in entry.key:
            hay = entry.key
        elif latin and q_compact in entry.initials:
            hay = entry.initials
        else:
            continue
        target = q if hay is entry.key else q_compact
        rank = 0 if hay == target else 1 if hay.startswith(target) else 2
        scored.append(((rank, len(entry.name), entry.kind, entry.name, entry.ref), entry))
    scored.sort(key=lambda pair: pair[0])
    return [entry for _, entry in scored[:limit]]
