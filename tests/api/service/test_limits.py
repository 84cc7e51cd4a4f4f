"""Request limits: body size by header and by stream, request timeout, file-type detection."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.service.filetype import detect_kind
from tests.api.conftest import KEY, SHARED_OSM, MakeClient, assert_problem, tiny_osm_xml


def test_streamed_body_over_limit(make_client: MakeClient) -> None:
    small = make_client(max_upload_mb=0.01)

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1024

    response = small.post("/projects", content=chunks(), headers={
        **KEY, "content-type": "multipart/form-data; boundary=zzz"})
    assert_problem(response, 413)


def test_request_timeout(make_client: MakeClient) -> None:
    quick = make_client(request_timeout_s=0.2)

    async def slow() -> dict[str, str]:
        await asyncio.sleep(3)
        return {"done": "late"}

    quick.app.add_api_route("/_slow", slow)  # type: ignore[attr-defined]
    body = assert_problem(quick.get("/_slow"), 504)
    assert "CAREPLAN_REQUEST_TIMEOUT_S" in body["detail"]
    assert quick.get("/health").status_code == 200


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    (tiny_osm_xml(), "osm_xml"),
    (b"BZh91AY&SY", "osm_bz2"),
    (_xlsx_bytes(), "xlsx"),
    (b"PK\x03\x04not really a zip", None),
    (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "geojson"),
    (b'{"type": "Feature"}', None),
    ("名称,经度\n敬老院,104.1\n".encode("gbk"), "csv"),
    (b"\x00\x01\x02binary", None),
    (b"SQLite format 3\x00" + b"\x00" * 100, "gpkg"),
    (b"<html><body>osm</body></html>", "csv"),
])
def test_detect_kind(tmp_path: Path, content: bytes, expected: str | None) -> None:
    path = tmp_path / "upload.osm"
    path.write_bytes(content)
    assert detect_kind(path) == expected


def test_detect_real_pbf() -> None:
    pbf = SHARED_OSM / "chengdu_center_2018.osm.pbf"
    if not pbf.is_file():
        pytest.skip(f"real OSM extract {pbf} is absent (shared data not mounted)")
    assert detect_kind(pbf) == "osm_pbf"
