"""Normalise elderly-care facility records: classify OSM tags, names and local type spellings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.errors import InputDataError
from planner.params import FACILITY_TYPES


@dataclass(frozen=True, slots=True)
class FacilityType:
    """One catalogue entry.

    Attributes
    ----------
    key
        Catalogue type, e.g. ``day_care``.
    label_zh, label_en
        Display labels.
    synonyms
        Local spellings used in registers' type columns.
    name_keywords
        Substrings of a facility name that identify the type.
    osm_tags
        Alternative tag sets; a feature matches one when it carries every tag of the set.
    """

    key: str
    label_zh: str
    label_en: str
    synonyms: tuple[str, ...]
    name_keywords: tuple[str, ...]
    osm_tags: tuple[Mapping[str, str], ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The facility-type catalogue, types in order of precedence."""

    types: tuple[FacilityType, ...]
    version: str = "1"

    def label(self, key: str, lang: str = "zh") -> str:
        """Display label of a type in ``zh`` or ``en``."""
        for t in self.types:
            if t.key == key:
                return t.label_zh if lang == "zh" else t.label_en
        return key


def build_catalogue(raw: Mapping[str, object]) -> Catalogue:
    """Validate a parsed ``facility_types.toml`` mapping into a :class:`Catalogue`.

    Raises
    ------
    InputDataError
        A type key outside the catalogue types, or a malformed entry.
    """
    types_raw = raw.get("types")
    if not isinstance(types_raw, Mapping) or not types_raw:
        msg = "facility catalogue has no [types.*] tables; see data/facility_types.toml"
        raise InputDataError(msg)
    entries = []
    for key, body in types_raw.items():
        if key not in FACILITY_TYPES:
            msg = f"catalogue type {key!r} is not one of {', '.join(FACILITY_TYPES)}"
            raise InputDataError(msg)
        if not isinstance(body, Mapping):
            msg = f"catalogue entry [types.{key}] must be a table"
            raise InputDataError(msg)
        tags = body.get("osm_tags", [])
        entries.append(
            FacilityType(
                key=key,
                label_zh=str(body.get("label_zh", key)),
                label_en=str(body.get("label_en", key)),
                synonyms=tuple(str(s) for s in body.get("synonyms", [])),
                name_keywords=tuple(str(s) for s in body.get("name_keywords", [])),
                osm_tags=tuple({str(k): str(v) for k, v in t.items()} for t in tags),
            )
        )
    return Catalogue(types=tuple(entries), version=str(raw.get("version", "1")))


def classify_osm_tags(tags: Mapping[str, str], catalogue: Catalogue) -> str | None:
    """Catalogue type of an OSM feature from its tags, then its name; ``None`` if not care-related.

    A tag set matches when the feature carries every tag of it; among matches the tag set with
    most tags wins (most specific), ties broken by catalogue order. Without a tag match, the
    ``name`` (or ``name:zh``) is searched for the name keywords in catalogue order.
    """
    best: tuple[int, int, str] | None = None
    for rank, ftype in enumerate(catalogue.types):
        for tag_set in ftype.osm_tags:
            if all(tags.get(k) == v for k, v in tag_set.items()):
                score = (-len(tag_set), rank, ftype.key)
                if best is None or score < best:
                    best = score
    if best is not None:
        return best[2]
    name = tags.get("name:zh") or tags.get("name") or ""
    return match_name_keywords(name, catalogue)


def match_name_keywords(name: str, catalogue: Catalogue) -> str | None:
    """Catalogue type whose name keyword occurs in ``name`` (catalogue order), else ``None``."""
    for ftype in catalogue.types:
        if any(k and k in name for k in ftype.name_keywords):
            return ftype.key
    return None


def match_type_name(value: str, catalogue: Catalogue) -> str | None:
    """Catalogue type of a register's type cell (a key, a label or a local spelling).

    Exact matches (key, labels, synonyms) win; otherwise the longest synonym contained in the
    cell decides. Returns ``None`` for an unknown spelling: callers report it, never guess.
    """
    text = str(value).strip()
    if not text:
        return None
    lowered = text.lower()
    for ftype in catalogue.types:
        exact = {ftype.key, ftype.label_zh, ftype.label_en.lower(), *ftype.synonyms}
        if text in exact or lowered in exact:
            return ftype.key
    hits: list[tuple[int, str]] = [
        (len(s), ftype.key) for ftype in catalogue.types for s in ftype.synonyms if s in text
    ]
    return max(hits)[1] if hits else None


def count_by_type(types: Sequence[str]) -> dict[str, int]:
    """Count facilities per catalogue type (every type present, zero when absent)."""
    counts = dict.fromkeys(FACILITY_TYPES, 0)
    for t in types:
        if t in counts:
            counts[t] += 1
    return counts
