"""Rule profiles: every shipped profile validates, quotes match the seeds, broken copies name the key."""

from __future__ import annotations

import copy
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest

from api.cli.rules import main as rules_main
from planner.compliance.rules import RULE_KINDS, build_profile
from planner.errors import InputDataError
from planner.io.rules import RULES_DIR, list_profiles, read_profile

SEEDS = Path(__file__).resolve().parents[4] / "shared" / "seeds"
SHIPPED = ["chengdu", "mianyang", "nanan", "national", "qingshen"]
# Rules the issue requires, per profile.
REQUIRED = {
    "chengdu": {"cd.daycare_coverage", "cd.complex_per_street", "cd.street_institution_area",
                "cd.daycare_area", "cd.meal_radius", "cd.station_5min", "cd.circle_15min_units",
                "cd.inclusive_bed_share", "cd.county_hardship_facility", "cd.new_area_provision"},
    "mianyang": {"my.circle_15min_urban", "my.circle_30min_rural", "my.nearby_80pct",
                 "my.complex_500m2", "my.complex_street_2022", "my.complex_street_2025",
                 "my.village_mutual_aid", "my.public_nursing_bed_share_2025"},
    "nanan": {"na.centre_per_township", "na.station_per_community", "na.circle_15min",
              "na.public_bed_share", "na.social_operation_rate", "na.new_area_provision"},
    "qingshen": {"qs.circle_15min_urban", "qs.canteens", "qs.complexes", "qs.facility_per_village",
                 "qs.old_area_land", "qs.regional_centres", "qs.dementia_centre"},
}


def _raw(name: str) -> dict[str, object]:
    return tomllib.loads((RULES_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def test_list_profiles() -> None:
    assert list_profiles() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_validates(name: str) -> None:
    profile = read_profile(name)
    assert profile.name == name and profile.rules
    assert REQUIRED.get(name, set()) <= {r.id for r in profile.rules}
    for rule in profile.rules:
        assert rule.kind in RULE_KINDS
        assert rule.clause and rule.source and set(rule.source) <= set(profile.sources)
        if name != "national":  # national cites standards (see its own test)
            assert all(s in rule.clause for s in rule.source)  # the clause names each document
        assert rule.target is None or rule.target >= 0


def _norm(text: str) -> str:
    return re.sub(r"[\s()（）,，、%％★“”\".．]", "", unicodedata.normalize("NFKC", text))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")
@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "national"])
def test_quotes_are_verbatim_in_their_seeds(name: str) -> None:
    """Every rule and every service-circle type quotes its clause; the quote is in the seed."""
    seeds = {p.name[:3]: _norm(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    profile = read_profile(name)
    for rule in profile.rules:
        assert rule.quote and rule.clause, rule.id
        assert any(_norm(rule.quote) in seeds[s] for s in rule.source), rule.id
    for ftype in profile.coverage.required_types:
        clause, quote = profile.required_type_clauses[ftype]
        assert clause[:3] in seeds and _norm(quote) in seeds[clause[:3]], ftype


def test_national_cites_national_standards_only() -> None:
    """The national profile names GB 50180-2018 / 建标143-2010 only, never a local plan."""
    profile = read_profile("national")
    assert set(profile.sources) == {"GB50180", "JB143"}
    for rule in profile.rules:
        assert rule.quote and set(rule.source) <= {"GB50180", "JB143"}
        assert "GB 50180-2018" in rule.clause or "建标143-2010" in rule.clause


def test_plans_without_day_care_do_not_require_it(capsys: pytest.CaptureFixture[str]) -> None:
    """003 and 004 never mention 日间照料中心: no rule and no circle type of theirs needs day_care."""
    for name in ("nanan", "qingshen"):
        profile = read_profile(name)
        needing = [r.id for r in profile.rules if "day_care" in r.params.get("types", ())
                   and not r.assumption]
        assert needing == [] and "day_care" not in profile.coverage.required_types, name
    assert rules_main(["rules", "show", "nanan"]) == 0
    out = capsys.readouterr().out
    assert "day_care" not in out and "日间照料" not in out
    assert out.count("clause: ") == len(read_profile("nanan").rules)
    assert "assumptions (the profile author's additions" in out


def test_plan_params_follow_the_profile() -> None:
    chengdu = read_profile("chengdu").plan_params()
    assert chengdu.profile_name == "chengdu" and chengdu.walk.speed_m_s == 0.8
    assert chengdu.coverage.threshold_min("meal_point", "urban") == 15
    assert chengdu.coverage.threshold_min("meal_point", "suburban") == 30  # 郊区30分钟
    assert chengdu.coverage.threshold_min("meal_point", "rural") == 30
    assert chengdu.coverage.threshold_min("day_care", "suburban") == 15
    assert read_profile("chengdu").zone_settlement["郊区新城"] == "suburban"
    assert chengdu.coverage.threshold_min("service_station", "urban") == 5
    mianyang = read_profile("mianyang")
    assert mianyang.plan_params().coverage.threshold_min("day_care", "rural") == 30
    assert mianyang.zone_settlement["科技城"] == "urban"
    assert read_profile("chengdu").zone_settlement["中心城区"] == "urban"
    assert mianyang.rule("my.nursing_bed_share_2025").binding == "binding"


def _mutate(raw: dict, path: tuple, value: object, *, delete: bool = False) -> dict:
    out = copy.deepcopy(raw)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "delete", "message"),
    [
        (("wlak",), {}, False, r"wlak is not a known key; did you mean 'walk'\?"),
        (("rules", 0, "targt"), 1, False, r"rules\[0\]\.targt is not a known key; did you mean 'target'"),
        (("rules", 5, "params", "typs"), ["day_care"], False, r"rules\[5\]\.params\.typs is not a known key"),
        (("rules", 0, "params", "types"), ["day_cares"], False, r"rules\[0\]\.params\.types = 'day_cares'"),
        (("rules", 1, "kind"), "presense", False, r"rules\[1\]\.kind = 'presense' is not one of"),
        (("rules", 1, "source"), ["009"], False, r"rules\[1\]\.source = '009'"),
        (("rules", 1, "binding"), "must", False, r"rules\[1\]\.binding = 'must'"),
        (("rules", 2, "target_year"), "2025", False, r"rules\[2\]\.target_year = '2025' must be int"),
        (("rules", 2, "clause"), None, True, r"rules\[2\]\.clause is required"),
        (("zones", "中心城区"), "city", False, r"zones\.中心城区 = 'city'"),
        (("coverage", "settlement_threshold_min", "suburb"), 30, False, r"coverage\.settlement_threshold_min = 'suburb'"),
        (("walk", "speed_m_s"), -1, False, r"walk\.speed_m_s=-1\.0 must be a positive"),
        (("demand",), {"weights": {"pop_80": 1.0}}, False, r"demand is not a known key"),
        (("coverage", "required_type_clauses", "meal_point"), None, True,
         r"coverage\.required_type_clauses\.meal_point is required"),
        (("rules", 1, "id"), "cd.daycare_coverage", False, r"rules\[\]\.id repeats \['cd\.daycare_coverage'\]"),
    ],
)
def test_broken_copy_names_the_key_and_file(path: tuple, value: object, delete: bool,
                                            message: str) -> None:
    raw = _mutate(_raw("chengdu"), path, value, delete=delete)
    with pytest.raises(InputDataError, match=r"^broken\.toml: " + message):
        build_profile(raw, origin="broken.toml")


def test_rules_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert rules_main(["rules", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SHIPPED) and "13 rules" in out  # mianyang
    assert rules_main(["rules", "show", "qingshen", "--lang", "en"]) == 0
    assert "[qs.canteens] Community elderly canteens (count)" in capsys.readouterr().out
    text = (RULES_DIR / "nanan.toml").read_text(encoding="utf-8").replace("label_en", "lable_en", 1)
    bad = tmp_path / "mine.toml"
    bad.write_text(text, encoding="utf-8")
    assert rules_main(["rules", "check", str(bad)]) == 1
    assert "mine.toml: profile.lable_en is not a known key" in capsys.readouterr().out
    good = tmp_path / "good.toml"
    good.write_text((RULES_DIR / "nanan.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert rules_main(["rules", "check", str(good)]) == 0
    assert "valid profile 'nanan' with 13 rules" in capsys.readouterr().out
    assert rules_main(["rules", "show", "atlantis"]) == 1
    assert "rule profile 'atlantis' not found" in capsys.readouterr().out


def test_walk_dem_is_resolved_beside_the_profile() -> None:
    """``[walk] dem`` (issue 17): relative to the profile file; absolute kept; absent is flat."""
    raw = _mutate(_raw("nanan"), ("walk", "dem"), "dem/nanan.tif")
    walk = build_profile(raw, origin="/data/rules/nanan.toml").walk
    assert walk.dem == "/data/rules/dem/nanan.tif"
    raw = _mutate(_raw("nanan"), ("walk", "dem"), "/srv/dem.tif")
    assert build_profile(raw, origin="/data/rules/nanan.toml").walk.dem == "/srv/dem.tif"
    assert read_profile("nanan").walk.dem == ""
    with pytest.raises(InputDataError, match=r"walk\.dem"):
        build_profile(_mutate(_raw("nanan"), ("walk", "dem"), 5), origin="x.toml")


def test_rules_show_lists_assumptions_apart() -> None:
    """An author-added rule (assumption = true) is printed under "assumptions", not "rules"."""
    from api.cli.rules import format_profile

    raw = _raw("nanan")
    extra = dict(raw["rules"][0], id="na.my_daycare", assumption=True,  # type: ignore[index]
                 params={"types": ["day_care"], "levels": ["community"]}, kind="presence",
                 target=1.0)
    raw["rules"] = [*raw["rules"], extra]  # type: ignore[misc]
    text = format_profile(build_profile(raw, origin="mine.toml"), "en")
    rules_part, assumptions_part = text.split("assumptions (the profile author's additions")
    assert "[na.my_daycare]" not in rules_part and "[na.my_daycare]" in assumptions_part
