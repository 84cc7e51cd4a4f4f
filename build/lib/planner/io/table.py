"""Read register-style tables (CSV, XLSX, GeoJSON, GPKG, Shapefile) with mapped Chinese/English headers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.io.catalogue import DATA_DIR, read_toml_file
from planner.io.encoding import read_csv_rows

#: ``{table: {normalised header: canonical field}}``.
ColumnMap = Mapping[str, Mapping[str, str]]

SOURCE_ROW = "source_row"
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def normalise_header(text: object) -> str:
    """Header key: NFKC, lower case, no spaces, without a trailing unit in brackets."""
    key = unicodedata.normalize("NFKC", str(text)).strip().lower()
    key = re.sub(r"\s+", "", key)
    return re.sub(r"\([^()]*\)$", "", key) or key


def read_column_map(path: Path | None = None) -> ColumnMap:
    """Read the header mapping (default ``data/columns.toml``).

    Raises
    ------
    InputDataError
        The file is missing, not TOML, or a spelling maps to two fields.
    """
    path = path or DATA_DIR / "columns.toml"
    raw = read_toml_file(path, "header mapping", missing_fix="pass an existing columns.toml")
    out: dict[str, dict[str, str]] = {}
    for table in ("facilities", "units"):
        mapping: dict[str, str] = {}
        for field, spellings in dict(raw.get(table, {})).items():
            for spelling in [field, *spellings]:
                key = normalise_header(spelling)
                if mapping.get(key, field) != field:
                    msg = f"{path}: header {spelling!r} maps to both {mapping[key]} and {field}"
                    raise InputDataError(msg + "; keep it under one field")
                mapping[key] = field
        out[table] = mapping
    return out


@dataclass(frozen=True, slots=True)
class Table:
    """A read table with canonical headers.

    Attributes
    ----------
    frame
        Records (text cells) with canonical column names, a ``source_row`` column (1-based file
        row: the header is row 1 in CSV/XLSX; the feature number in geodata files) and, for
        geodata files, a ``geometry`` column in EPSG:4326 or its own CRS.
    encoding
        The CSV encoding used, else ``None``.
    """

    frame: pd.DataFrame | gpd.GeoDataFrame
    encoding: str | None


def _header_row(rows: list[list[str]], mapping: Mapping[str, str]) -> int:
    """Index of the first of the top 10 rows with at least two known headers (else 0)."""
    for i, row in enumerate(rows[:10]):
        if sum(normalise_header(c) in mapping for c in row if str(c).strip()) >= 2:
            return i
    return 0


def _frame_from_rows(rows: Sequence[Sequence[object]], mapping: Mapping[str, str]
                     ) -> pd.DataFrame:
    h = _header_row([[str(c) for c in r] for r in rows], mapping)
    header = ["" if c is None else str(c) for c in rows[h]]
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[h + 1 :]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame[SOURCE_ROW] = np.arange(h + 2, h + 2 + len(frame))
    blank = frame.drop(columns=SOURCE_ROW).map(lambda v: v is None or str(v).strip() == "")
    return frame.loc[~blank.all(axis=1)].reset_index(drop=True)


def _rename(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    renames: dict[str, str] = {}
    for col in frame.columns:
        field = mapping.get(normalise_header(col))
        if col != SOURCE_ROW and field is not None and field not in renames.values():
            renames[col] = field
    return frame.rename(columns=renames)


def read_table(path: Path, *, table: str, columns: ColumnMap | None = None) -> Table:
    """Read a CSV, XLSX, GeoJSON, GeoPackage or Shapefile with headers mapped for ``table``.

    Raises
    ------
    InputDataError
        Unsupported suffix, unreadable or empty file.
    """
    path = Path(path)
    mapping = (columns or read_column_map())[table]
    suffix = path.suffix.lower()
    if not path.exists():
        msg = f"{table} file {path} not found; check the path"
        raise InputDataError(msg)
    encoding: str | None = None
    if suffix in (".csv", ".txt"):
        rows, encoding = read_csv_rows(path)
        frame: pd.DataFrame = _frame_from_rows(list(rows), mapping)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            msg = f"cannot read workbook {path} ({exc}); save it again as .xlsx"
            raise InputDataError(msg) from exc
        rows_x = [[None if pd.isna(v) else v for v in r] for r in raw.itertuples(index=False)]
        if not rows_x:
            msg = f"{path} is empty; give a header row and at least one record"
            raise InputDataError(msg)
        frame = _frame_from_rows(rows_x, mapping)
    elif suffix in _GEO_SUFFIXES:
        try:
            geo = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises DataSourceError and friends
            msg = f"cannot read {path} ({exc}); give a valid GeoJSON/GPKG/Shapefile"
            raise InputDataError(msg) from exc
        geo[SOURCE_ROW] = np.arange(1, len(geo) + 1)
        frame = _rename(geo, mapping)
        return Table(frame=frame, encoding=None)
    else:
        msg = f"unsupported file type {suffix!r} for {path}; use CSV, XLSX, GeoJSON, GPKG or SHP"
        raise InputDataError(msg)
    return Table(frame=_rename(frame, mapping), encoding=encoding)


def parse_number(value: object) -> float:
    """First number in a cell ("1,200", "750㎡", "约500" -> 1200, 750, 500); NaN when none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    match = _NUMBER.search(text)
    return float(match.group()) if match else float("nan")


def cell_text(value: object) -> str:
    """A cell as stripped text ('' for empty); whole floats lose their '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
