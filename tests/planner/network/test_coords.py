"""Coordinate conversions: published pairs, round trips across China, refusal of projected input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputDataError
from planner.network.coords import (
    bd09_to_wgs84,
    check_lonlat,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    round_trip_error_m,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


def test_forward_gcj02_matches_published_pair() -> None:
    # Beijing railway station: WGS-84 (116.42079, 39.90105) -> GCJ-02 (116.42703, 39.90245)
    lon, lat = wgs84_to_gcj02(116.42079, 39.90105)
    assert lon == pytest.approx(116.42703, abs=1e-5)
    assert lat == pytest.approx(39.90245, abs=1e-5)


def test_forward_bd09_matches_published_pairs() -> None:
    # docs.rs coord-transform example and the Beijing railway station pair (BD-09 116.43351, 39.90851)
    lon, lat = gcj02_to_bd09(118.0, 32.0)
    assert (float(lon), float(lat)) == pytest.approx((118.00653128313961, 32.00581846664105), abs=1e-12)
    lon, lat = wgs84_to_bd09(116.42079, 39.90105)
    assert (float(lon), float(lat)) == pytest.approx((116.43351, 39.90851), abs=2e-5)  # pair published to 5 decimals


def test_offset_is_hundreds_of_metres_in_china() -> None:
    lon, lat = wgs84_to_gcj02(104.06, 30.65)  # Chengdu
    shift_m = np.hypot((lon - 104.06) * 111_320 * np.cos(np.radians(30.65)), (lat - 30.65) * 110_574)
    assert 100 < shift_m < 1000


def test_inverse_recovers_wgs84() -> None:
    lon, lat = gcj02_to_wgs84(116.42703, 39.90245)
    assert (float(lon), float(lat)) == pytest.approx((116.42079, 39.90105), abs=2e-5)
    lon, lat = bd09_to_wgs84(*wgs84_to_bd09(104.06, 30.65))
    assert (float(lon), float(lat)) == pytest.approx((104.06, 30.65), abs=1e-9)


def test_round_trip_below_half_metre_over_china_grid() -> None:
    lon, lat = np.meshgrid(np.arange(73.0, 135.01, 0.25), np.arange(18.0, 53.51, 0.25))
    for system in ("gcj02", "bd09"):
        err = round_trip_error_m(lon.ravel(), lat.ravel(), system)
        assert err.max() < 0.01  # measured ~4e-7 m; requirement 0.5 m


@settings(max_examples=200, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.5), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_property(lon: float, lat: float, system: str) -> None:
    assert round_trip_error_m([lon], [lat], system)[0] < 0.5  # type: ignore[arg-type]


def test_outside_china_is_unshifted() -> None:
    lon, lat = wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])  # Paris, New York
    assert np.array_equal(lon, [2.35, -74.0]) and np.array_equal(lat, [48.85, 40.7])
    back = gcj02_to_wgs84([2.35], [48.85])
    assert float(back[0][0]) == 2.35 and float(back[1][0]) == 48.85


def test_cgcs2000_and_wgs84_are_identity_and_nan_passes() -> None:
    lon, lat = to_wgs84([104.06, np.nan], [30.65, np.nan], coords="cgcs2000")
    assert lon[0] == 104.06 and np.isnan(lon[1]) and np.isnan(lat[1])


def test_projected_metres_refused_with_value_and_fix() -> None:
    with pytest.raises(InputDataError, match=r"\(35412345, 3390000\) look like projected metres.*EPSG:4326"):
        to_wgs84([35412345.0], [3390000.0], coords="gcj02")


def test_swapped_lonlat_refused() -> None:
    with pytest.raises(InputDataError, match="swapped"):
        check_lonlat([30.65], [104.06])


def test_unknown_system_refused() -> None:
    with pytest.raises(InputDataError, match="unknown coordinate system 'mars'"):
        to_wgs84([104.0], [30.0], coords="mars")
