"""Write report files: Excel workbook (openpyxl), GeoPackage report, and the all-or-nothing folder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.io.folder import write_folder_atomically
from planner.report.tables import ReportTables
from planner.report.text import SHEETS, header, pick

#: Number formats by column key (anything else: general).
NUMBER_FORMATS = {"covered_share": "0.0%", "target_share": "0.0%", "older_pop": "#,##0",
                  "covered_pop": "#,##0", "uncovered_pop": "#,##0", "median_time_min": "0.0",
                  "p90_time_min": "0.0", "threshold_min": "0", "snap_access_m": "0.0",
                  "capacity": "#,##0"}
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_sheet(ws: Worksheet, frame: pd.DataFrame, lang: str, *, start_row: int = 1) -> None:
    """Frame to sheet: translated bold header, frozen header row, formats, widths, autofilter."""
    cols = list(frame.columns)
    for j, col in enumerate(cols, start=1):
        cell = ws.cell(row=start_row, column=j, value=header(str(col), lang))
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
    for i, row in enumerate(frame.itertuples(index=False), start=start_row + 1):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=_cell(value))
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        fmt = NUMBER_FORMATS.get(str(col))
        if fmt:
            for i in range(start_row + 1, start_row + 1 + len(frame)):
                ws[f"{letter}{i}"].number_format = fmt
        texts = [header(str(col), lang)] + [str(v) for v in frame[col].head(200)]
        wide = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in t) for t in texts)
        ws.column_dimensions[letter].width = min(max(8, wide + 2), 60)
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1)
    last = get_column_letter(max(len(cols), 1))
    ws.auto_filter.ref = f"A{start_row}:{last}{start_row + len(frame)}"


def _summary_sheet(ws: Worksheet, tables: ReportTables, lang: str) -> None:
    title = pick(("养老服务设施覆盖与缺口报告", "Elderly-care coverage and gap report"), lang)
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=str(tables.manifest.get("label") or ""))
    if tables.synthetic:
        ws.cell(row=2, column=2, value=tables.synthetic_label).font = Font(bold=True, color="C00000")
    if tables.indicators is None:
        ws.cell(row=4, column=1, value=tables.indicators_note).font = Font(italic=True)
        frame = pd.DataFrame({"key": [], "value": []})
        write_sheet(ws, frame, lang, start_row=5)
        return
    write_sheet(ws, tables.indicators, lang, start_row=4)


def manifest_rows(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """Manifest as flat ``key, value`` rows (nested values as JSON)."""
    rows: list[dict[str, Any]] = []
    for key, value in manifest.items():
        if key == "input_files":
            rows.extend({"key": f"sha256:{name}", "value": digest}
                        for name, digest in value.items())
        elif isinstance(value, (dict, list)):
            rows.append({"key": key, "value": json.dumps(value, ensure_ascii=False)})
        else:
            rows.append({"key": key, "value": value})
    return pd.DataFrame(rows, columns=["key", "value"])


def write_workbook(tables: ReportTables, path: Path, lang: str = "zh") -> None:
    """Excel workbook: summary (indicator table), coverage, gaps, facilities, sites, manifest."""
    wb = Workbook()
    ws = wb.active
    ws.title = pick(SHEETS["summary"], lang)
    _summary_sheet(ws, tables, lang)
    parts = [("coverage", tables.coverage), ("gaps", tables.gaps),
             ("facilities", tables.facilities)]
    if tables.sites is not None:
        parts.append(("sites", tables.sites))
    parts.append(("manifest", manifest_rows(tables.manifest)))
    for key, frame in parts:
        write_sheet(wb.create_sheet(pick(SHEETS[key], lang)), frame, lang)
    wb.save(path)


def report_layers(tables: ReportTables, layers: Mapping[str, gpd.GeoDataFrame]
                  ) -> dict[str, gpd.GeoDataFrame]:
    """GeoPackage layers: units with coverage, gaps with actions, catchments, facilities, sites."""
    units = layers["units"]
    geom = units.set_index(units["unit_id"].astype(str)).geometry
    gaps = tables.gaps
    out = {"units": units,
           "gaps": gpd.GeoDataFrame(gaps, geometry=gaps["unit_id"].map(geom).to_numpy(),
                                    crs=units.crs),
           "facilities": gpd.GeoDataFrame(tables.facilities, geometry=layers["facilities"]
                                          .geometry.to_numpy(), crs=layers["facilities"].crs)}
    for name in ("catchments_dissolved", "catchments", "sites"):
        if name in layers and len(layers[name]):
            out[name] = layers[name]
    return out


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], manifest: Mapping[str, Any],
                     path: Path) -> None:
    """One layer per result plus a non-spatial ``manifest`` table."""
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    import pyogrio

    pyogrio.write_dataframe(manifest_rows(manifest).astype({"value": str}), path,
                            layer="manifest", driver="GPKG")


def write_report_folder(out_dir: Path, writers: Mapping[str, Callable[[Path], None]]) -> Path:
    """Call each ``name -> writer(path)`` into a temp folder, then rename it to ``out_dir``.

    Raises
    ------
    InputDataError
        ``out_dir`` is a file, or a non-empty folder without a previous report's manifest.
    """
    return write_folder_atomically(out_dir, writers, marker="manifest.json", what="report")


def write_manifest(manifest: Mapping[str, Any], path: Path) -> None:
    """``manifest.json`` (UTF-8, Chinese kept)."""
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                    encoding="utf-8")
