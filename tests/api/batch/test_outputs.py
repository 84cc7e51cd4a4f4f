"""Batch outputs: fsspec URL staging and upload (a file:// URL, tested locally), safe names."""

from __future__ import annotations

from pathlib import Path

from api.batch.outputs import safe_name, staging_dir, upload


def test_url_output_is_staged_locally_and_uploaded_without_parts(tmp_path: Path) -> None:
    url = (tmp_path / "remote" / "run").as_uri()
    local = staging_dir(url)
    assert local != Path(url) and staging_dir(url) == local  # stable: --resume finds it again
    assert staging_dir(str(tmp_path / "plain")) == tmp_path / "plain"
    (local / "regions" / "SW").mkdir(parents=True, exist_ok=True)
    (local / "_parts").mkdir(exist_ok=True)
    (local / "summary.json").write_text("{}", "utf-8")
    (local / "regions" / "SW" / "coverage.csv").write_text("unit_id\n1\n", "utf-8")
    (local / "_parts" / "SW.pkl").write_bytes(b"x")
    upload(local, url)
    remote = tmp_path / "remote" / "run"
    assert (remote / "summary.json").read_text("utf-8") == "{}"
    assert (remote / "regions" / "SW" / "coverage.csv").is_file()
    assert not (remote / "_parts").exists()


def test_safe_names_are_unique_and_plain() -> None:
    assert safe_name("510104") == "510104"
    a, b = safe_name("成都/锦江"), safe_name("成都_锦江")
    assert a != b and "/" not in a
