"""Supply-demand accessibility ratios (E2SFCA) from sparse walking times, per point and unit."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import InputDataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StepDecay:
    """Stepwise distance decay: weight ``zone_weights[z]`` for times in zone ``z``.

    Parameters
    ----------
    zone_upper_s
        Increasing upper edges of the travel-time zones in seconds; the last is the catchment.
        Zone ``z`` is ``(zone_upper_s[z-1], zone_upper_s[z]]`` (the first starts at 0 inclusive).
    zone_weights
        Weight of each zone in [0, 1], e.g. ``(1.0, 0.68, 0.22)`` (Luo and Qi 2009, 0-5/5-10/10-15
        min zones in their 10/20/30-min setting scaled to a 15-minute walk).
    """

    zone_upper_s: tuple[float, ...] = (300.0, 600.0, 900.0)
    zone_weights: tuple[float, ...] = (1.0, 0.68, 0.22)

    def __post_init__(self) -> None:
        edges = np.asarray(self.zone_upper_s, dtype=np.float64)
        weights = np.asarray(self.zone_weights, dtype=np.float64)
        if edges.size == 0 or edges.size != weights.size:
            msg = (
                f"zone_upper_s has {edges.size} edges and zone_weights {weights.size}; "
                "give one weight per zone"
            )
            raise InputDataError(msg)
        if not (np.isfinite(edges).all() and edges[0] > 0 and (np.diff(edges) > 0).all()):
            msg = (
                f"zone_upper_s={self.zone_upper_s!r} must be positive and increasing seconds; "
                "e.g. (300, 600, 900)"
            )
            raise InputDataError(msg)
        if not ((weights >= 0) & (weights <= 1)).all():
            msg = f"zone_weights={self.zone_weights!r} must lie in [0, 1]; e.g. (1.0, 0.68, 0.22)"
            raise InputDataError(msg)

    @classmethod
    def from_minutes(
        cls, zone_upper_min: tuple[float, ...], zone_weights: tuple[float, ...]
    ) -> StepDecay:
        """Build from zone edges in minutes (converted once to seconds)."""
        return cls(
            tuple(60.0 * float(t) for t in zone_upper_min), tuple(float(w) for w in zone_weights)
        )

    @property
    def catchment_s(self) -> float:
        """Catchment size in seconds (the last zone edge)."""
        return float(self.zone_upper_s[-1])

    def weight(self, time_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Decay weight for travel times in seconds (0 beyond the catchment)."""
        zone = np.searchsorted(np.asarray(self.zone_upper_s), time_s, side="left")
        table = np.append(np.asarray(self.zone_weights, dtype=np.float64), 0.0)
        return table[zone]


@dataclass(frozen=True, slots=True)
class GaussianDecay:
    """Gaussian decay within a catchment (Dai 2010), 1 at 0 s and 0 at ``catchment_s``.

    Parameters
    ----------
    catchment_s
        Catchment size :math:`d_0` in seconds (e.g. 900 for a 15-minute walk).
    """

    catchment_s: float = 900.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.catchment_s) and self.catchment_s > 0):
            msg = f"catchment_s={self.catchment_s!r} must be a positive number of seconds; e.g. 900"
            raise InputDataError(msg)

    def weight(self, time_s: NDArray[np.float64]) -> NDArray[np.float64]:
        r"""Gaussian weight :math:`(e^{-d^2/(2 d_0^2)} - e^{-1/2}) / (1 - e^{-1/2})`, 0 past d_0."""
        edge = np.exp(-0.5)
        ratio = np.asarray(time_s, dtype=np.float64) / self.catchment_s
        value = (np.exp(-0.5 * ratio**2) - edge) / (1.0 - edge)
        return np.where(ratio <= 1.0, value, 0.0)


def _check_inputs(
    travel_s: object, supply_pop: NDArray[np.float64], demand_pop: NDArray[np.float64]
) -> sp.csr_matrix:
    if not sp.issparse(travel_s):
        msg = (
            f"travel_s is {type(travel_s).__name__}; "
            "pass a scipy.sparse (demand x facility) matrix in seconds"
        )
        raise InputDataError(msg)
    times = sp.csr_matrix(travel_s, dtype=np.float64)
    n_demand, n_facility = times.shape
    if supply_pop.shape != (n_facility,) or demand_pop.shape != (n_demand,):
        msg = (
            f"travel_s is {n_demand}x{n_facility} but supply has {supply_pop.size} and demand "
            f"{demand_pop.size} values; align rows to demand and columns to facilities"
        )
        raise InputDataError(msg)
    for name, values in (
        ("supply_pop", supply_pop),
        ("demand_pop", demand_pop),
        ("travel_s", times.data),
    ):
        if not np.isfinite(values).all() or (values < 0).any():
            msg = (
                f"{name} has negative or non-finite values; "
                "give counts/seconds >= 0 (leave unreachable pairs out)"
            )
            raise InputDataError(msg)
    return times


def compute_e2sfca(
    travel_s: sp.spmatrix,
    supply_pop: NDArray[np.float64],
    demand_pop: NDArray[np.float64],
    *,
    decay: StepDecay | GaussianDecay,
) -> NDArray[np.float64]:
    r"""Enhanced two-step floating catchment accessibility ratio per demand point.

    Parameters
    ----------
    travel_s
        Sparse ``(n_demand, n_facility)`` walking times in seconds. Stored entries are reachable
        pairs (an explicitly stored 0 is a zero-second walk); missing entries are unreachable.
    supply_pop
        Capacity of each facility in older adults it can serve (places, meals per day).
    demand_pop
        Older adults at each demand point.
    decay
        ``StepDecay`` or ``GaussianDecay``; pairs beyond its catchment get weight 0.

    Returns
    -------
    numpy.ndarray
        :math:`A_i`, capacity per older adult reachable from demand point ``i`` (0 if none).

    Raises
    ------
    InputDataError
        On shape mismatches or negative or non-finite values.

    Notes
    -----
    Luo and Qi (2009), with catchment :math:`d_0` and decay weights :math:`W(d)`:

    .. math::

        R_j = \frac{S_j}{\sum_{k:\, d_{kj} \le d_0} P_k\, W(d_{kj})}, \qquad
        A_i = \sum_{j:\, d_{ij} \le d_0} R_j\, W(d_{ij}),

    where :math:`S_j` is the capacity of facility :math:`j`, :math:`P_k` the older adults at demand
    point :math:`k` and :math:`d_{ij}` the walking time. A facility with no weighted demand in its
    catchment has :math:`R_j = 0` (its supply serves nobody). Population-weighted, the ratios
    conserve supply: :math:`\sum_i P_i A_i = \sum_{j \text{ reached}} S_j`.
    """
    supply = np.asarray(supply_pop, dtype=np.float64).reshape(-1)
    demand = np.asarray(demand_pop, dtype=np.float64).reshape(-1)
    times = _check_inputs(travel_s, supply, demand)
    weight = times.copy()
    weight.data = decay.weight(times.data)
    weight.eliminate_zeros()
    weighted_demand = np.asarray(weight.T @ demand).ravel()
    ratio = np.divide(supply, weighted_demand, out=np.zeros_like(supply), where=weighted_demand > 0)
    access = np.asarray(weight @ ratio).ravel()
    logger.debug(
        "E2SFCA: %d demand points, %d facilities, %d pairs in catchment", *times.shape, weight.nnz
    )
    return access


def compute_unit_access(
    access: NDArray[np.float64], demand_pop: NDArray[np.float64], unit_of_demand: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Population-weighted mean accessibility per unit.

    Parameters
    ----------
    access
        Accessibility ratio per demand point (from ``compute_e2sfca``).
    demand_pop
        Older adults per demand point (the weights).
    unit_of_demand
        Integer unit index (>= 0) of each demand point.

    Returns
    -------
    tuple of numpy.ndarray
        Unit indices present in ``unit_of_demand`` (sorted) and their weighted mean ratio; units
        with no older adults get the unweighted mean of their points.

    Raises
    ------
    InputDataError
        If the arrays differ in length or units are negative.
    """
    values = np.asarray(access, dtype=np.float64).reshape(-1)
    weights = np.asarray(demand_pop, dtype=np.float64).reshape(-1)
    units = np.asarray(unit_of_demand).reshape(-1)
    if not (values.size == weights.size == units.size) or (units.size and units.min() < 0):
        msg = (
            "access, demand_pop and unit_of_demand must be equal-length with units >= 0; "
            "align them first"
        )
        raise InputDataError(msg)
    present, inverse = np.unique(units, return_inverse=True)
    pop = np.bincount(inverse, weights=weights, minlength=present.size)
    weighted = np.bincount(inverse, weights=weights * values, minlength=present.size)
    plain = np.bincount(inverse, weights=values, minlength=present.size) / np.bincount(
        inverse, minlength=present.size
    )
    mean = np.divide(weighted, pop, out=plain.copy(), where=pop > 0)
    return present.astype(np.int64), mean
