"""The API's only file I/O: uploads, data-dir files, result folders and layers in the data dir."""

from __future__ import annotations

import copyreg
import hashlib
import json
import logging
import os
import pickle
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.service.errors import ProblemError
from api.service.filetype import ACCEPTED, SUFFIX, detect_kind
from planner.io import osm as osm_io
from planner.io.catalogue import read_catalogue

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_LAYER_CACHE = 32
LAYER_DIR = "layers"
RUN_DIR = "run"
SUMMARY_FILE = "summary.json"
#: The analysed plan of a coverage result, so reads after a restart load it instead of
#: recomputing the analysis on the request path (pickle: written and read only by this service).
PLAN_FILE = "plan.pickle"


def _mapping_proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _mapping_proxy, (dict(proxy),)


copyreg.pickle(MappingProxyType, _reduce_proxy)


@dataclass(frozen=True, slots=True)
class SavedFile:
    """A file stored (or found) under the data dir."""

    path: Path
    relative: str
    sha256: str
    size_bytes: int
    detected: str


class Store:
    """Files under one data directory; nothing outside it is ever read or written."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve()
        for sub in ("projects", "results", "cache"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._layers: OrderedDict[tuple[str, str], gpd.GeoDataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def relative(self, path: Path) -> str:
        """``path`` relative to the data dir (as stored in the database)."""
        return path.resolve().relative_to(self.root).as_posix()

    def absolute(self, relative: str) -> Path:
        """A stored relative path made absolute; refuses anything outside the data dir."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise ProblemError(400, f"path {relative!r} leaves the data directory")
        return path

    def resolve_data_file(self, name: str) -> Path:
        """An existing file inside the data dir, by relative name.

        Raises
        ------
        ProblemError
            400 for absolute paths or paths leaving the data dir, 404 when missing.
        """
        if not name or name.startswith(("/", "\\")) or ":" in name or "\x00" in name:
            raise ProblemError(400, f"file {name!r} must be a relative path inside the data "
                                    "directory")
        path = self.absolute(name)
        if not path.is_file():
            raise ProblemError(404, f"file {name!r} not found in the data directory")
        return path

    def check_kind(self, path: Path, purpose: str) -> str:
        """Detected type of ``path`` if ``purpose`` accepts it, else a 415 problem."""
        detected = detect_kind(path)
        if detected is None or detected not in ACCEPTED[purpose]:
            allowed = ", ".join(ACCEPTED[purpose])
            what = detected or "unrecognised content"
            raise ProblemError(415, f"{purpose} file is {what}; expected one of: {allowed} "
                                  "(judged by content, not by name)")
        return detected

    def describe_file(self, path: Path, purpose: str) -> SavedFile:
        """Check and checksum an existing data-dir file."""
        detected = self.check_kind(path, purpose)
        return SavedFile(path, self.relative(path), _sha256(path), path.stat().st_size, detected)

    async def save_upload(self, upload: UploadFile, project_id: str, upload_id: str,
                          purpose: str, limit_bytes: int) -> SavedFile:
        """Stream an upload to ``projects/<id>/uploads``, check size and content, name by type."""
        folder = self.root / "projects" / project_id / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"{upload_id}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with part.open("wb") as handle:
                while block := await upload.read(_CHUNK):
                    size += len(block)
                    if size > limit_bytes:
                        raise ProblemError(413, f"upload exceeds {limit_bytes / 2**20:.0f} MB; "
                                              "raise CAREPLAN_MAX_UPLOAD_MB or split the file")
                    await run_in_threadpool(_write_block, handle, digest, block)
            if size == 0:
                raise ProblemError(415, f"{purpose} file is empty")
            detected = await run_in_threadpool(self.check_kind, part, purpose)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        final = folder / f"{upload_id}{SUFFIX[detected]}"
        os.replace(part, final)
        return SavedFile(final, self.relative(final), digest.hexdigest(), size, detected)

    def download_place(self, place: str) -> Path:
        """Download (or reuse the cached download of) a named place via planner.io.osm."""
        return osm_io.download_place(place, read_catalogue(), self.root / "cache" / "osm")

    def write_result(self, result_id: str, frames: dict[str, gpd.GeoDataFrame],
                     summary: dict[str, Any], run_writer: Callable[[Path], None] | None,
                     plan: Any = None) -> str:
        """Write a result folder under a temporary name, then rename it into place atomically."""
        tmp = self.temp_result(result_id)
        try:
            self.write_result_folder(tmp, frames, summary, run_writer, plan=plan)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self.commit_result(result_id)

    def temp_result(self, result_id: str, suffix: str = "") -> Path:
        """The temporary folder a result is written to (removed by :meth:`sweep_temp`)."""
        return self.root / "results" / f".{result_id}{suffix}.tmp"

    def write_result_folder(self, folder: Path, frames: dict[str, gpd.GeoDataFrame],
                            summary: dict[str, Any], run_writer: Callable[[Path], None] | None,
                            plan: Any = None) -> None:
        """Write layers, summary, run files and the plan into a fresh ``folder`` (a temporary
        one: :meth:`commit_result` moves it into place)."""
        shutil.rmtree(folder, ignore_errors=True)
        (folder / LAYER_DIR).mkdir(parents=True)
        for name, frame in frames.items():
            text = frame.to_crs(4326).to_json(na="null", drop_id=True) if len(frame) else \
                json.dumps({"type": "FeatureCollection", "features": []})
            (folder / LAYER_DIR / f"{name}.geojson").write_text(text, encoding="utf-8")
        (folder / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, default=str),
                                           encoding="utf-8")
        if run_writer is not None:
            run_writer(folder / RUN_DIR)
        if plan is not None:
            with (folder / PLAN_FILE).open("wb") as handle:
                pickle.dump(plan, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def commit_result(self, result_id: str) -> str:
        """Rename a written temporary result folder into place (atomic); its stored path."""
        final = self.root / "results" / result_id
        os.replace(self.temp_result(result_id), final)
        return self.relative(final)

    def read_layer(self, result_path: str, name: str) -> gpd.GeoDataFrame:
        """A stored layer (WGS-84); an empty frame when the result has no such layer."""
        key = (result_path, name)
        with self._lock:
            if key in self._layers:
                self._layers.move_to_end(key)
                return self._layers[key]
        path = self.absolute(result_path) / LAYER_DIR / f"{name}.geojson"
        frame = gpd.read_file(path) if path.is_file() else gpd.GeoDataFrame(geometry=[], crs=4326)
        if frame.crs is None:
            frame = frame.set_crs(4326)
        with self._lock:
            self._layers[key] = frame
            while len(self._layers) > _LAYER_CACHE:
                self._layers.popitem(last=False)
        return frame

    def has_plan(self, result_path: str) -> bool:
        """Whether a result folder holds its analysed plan."""
        return (self.absolute(result_path) / PLAN_FILE).is_file()

    def read_plan(self, result_path: str) -> tuple[Any, int]:
        """A result's stored plan and its size in bytes (the cache's measure), or ``(None, 0)``."""
        path = self.absolute(result_path) / PLAN_FILE
        if not path.is_file():
            return None, 0
        with path.open("rb") as handle:
            return pickle.load(handle), path.stat().st_size  # noqa: S301 - our own file

    def read_summary(self, result_path: str) -> dict[str, Any]:
        """A result's summary JSON."""
        path = self.absolute(result_path) / SUMMARY_FILE
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}

    def find_export(self, result_path: str, names: tuple[str, ...]) -> Path | None:
        """The first existing file among ``names`` in a result's run folder, else its folder."""
        base = self.absolute(result_path)
        for folder in (base / RUN_DIR, base):
            for name in names:
                hits = sorted(folder.glob(name)) if "*" in name else [folder / name]
                for hit in hits:
                    if hit.is_file() and hit.resolve().is_relative_to(self.root):
                        return hit
        return None

    def remove_project(self, project_id: str, result_paths: list[str]) -> None:
        """Delete a project's uploads and result folders (files it did not upload are kept)."""
        shutil.rmtree(self.root / "projects" / project_id, ignore_errors=True)
        self.remove_results(result_paths)

    def remove_results(self, result_paths: list[str]) -> None:
        """Delete result folders and forget their cached layers."""
        for rel in result_paths:
            shutil.rmtree(self.absolute(rel), ignore_errors=True)
        with self._lock:
            for key in [k for k in self._layers if k[0] in result_paths]:
                del self._layers[key]

    def sweep_temp(self) -> None:
        """Remove half-written result folders and partial uploads left by a killed process."""
        for tmp in (self.root / "results").glob(".*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)
        for part in (self.root / "projects").glob("*/uploads/*.part"):
            part.unlink(missing_ok=True)


def _write_block(handle: Any, digest: Any, block: bytes) -> None:
    digest.update(block)
    handle.write(block)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
