"""Issue 13 item 8: one set of numeric bounds (planner.params.BOUNDS) for the command line, the
service and the rule profiles; plus a property test of the path scrubbing of job messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.cli.main import main
from api.service.jobs import scrub_paths
from planner.compliance.rules import build_profile
from planner.errors import InputDataError
from planner.io.rules import read_profile
from planner.params import BOUNDS, CoverageParams, SnapParams, WalkProfile, check_siting


@pytest.mark.parametrize(("flag", "value"), [("--speed-m-s", "5"), ("--speed-m-s", "1e-300"),
                                             ("--max-snap-m", "5000")])
def test_cli_refuses_out_of_bounds(flag: str, value: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "o"), flag, value]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and value.split("e")[0] in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("args", "named"), [
    (["--k", "100000"], "k=100000"), (["--k", "0"], "k=0"),
    (["--k", "3", "--time-limit-s", "1e9"], "time_limit_s=1000000000.0")])
def test_cli_site_refuses_out_of_bounds(args: list[str], named: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before the run is even read (it does not exist here)."""
    code = main(["site", "--run", str(tmp_path / "run"), "--type", "day_care", *args,
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and named in err, err
    assert not (tmp_path / "o").exists()


def test_siting_bounds() -> None:
    check_siting(int(BOUNDS["sites_k"][1]), 60.0, int(BOUNDS["candidate_sites"][1]))
    with pytest.raises(InputDataError, match=r"^k=501 is outside 1-500"):
        check_siting(501, 60.0)
    with pytest.raises(InputDataError, match="candidates=10001"):
        check_siting(5, 60.0, 10_001)
    with pytest.raises(InputDataError, match="time_limit_s"):
        check_siting(None, float("inf"))


def test_params_use_the_shared_bounds() -> None:
    low, high = BOUNDS["threshold_min"]
    CoverageParams(thresholds_min=(low, high))
    with pytest.raises(InputDataError, match="outside 1-120"):
        CoverageParams(thresholds_min=(high + 1,))
    with pytest.raises(InputDataError, match="outside"):
        WalkProfile(speed_m_s=BOUNDS["speed_m_s"][1] * 1.01)
    with pytest.raises(InputDataError, match="outside"):
        SnapParams(max_snap_m=BOUNDS["max_snap_m"][1] + 1)


def test_rule_profile_out_of_bounds_names_key() -> None:
    import tomllib

    raw = tomllib.loads(Path(read_profile("national").origin).read_text(encoding="utf-8"))
    raw["walk"]["speed_m_s"] = 3.0
    with pytest.raises(InputDataError, match=r"^broken\.toml: walk\.speed_m_s=3\.0 is outside"):
        build_profile(raw, origin="broken.toml")
    raw["walk"]["speed_m_s"] = 0.8
    raw["coverage"]["settlement_threshold_min"]["rural"] = 600
    with pytest.raises(InputDataError, match=r"coverage\.threshold=600\.0 is outside"):
        build_profile(raw, origin="broken.toml")


_segment = st.text(alphabet=st.characters(blacklist_characters="/\x00", codec="utf-8"),
                   min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(_segment, min_size=1, max_size=4), name=_segment, before=st.text(max_size=20))
def test_scrubbed_messages_hold_no_data_dir(parts: list[str], name: str, before: str) -> None:
    root = Path("/srv/careplan-data")
    rel = "projects/p1/uploads/" + "/".join(parts) + ".csv"
    files = [{"path": rel, "filename": name}]
    message = f"{before}cannot read {root / rel} (line 3); also {root}/cache/x.osm"
    scrubbed = scrub_paths(message, root, files)
    assert str(root) not in scrubbed
    assert name in scrubbed
