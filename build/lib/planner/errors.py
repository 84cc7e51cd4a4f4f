"""PlannerError hierarchy and DataQualityWarning; nothing else."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error careplan raises on purpose."""


class InputDataError(PlannerError, ValueError):
    """Input data is missing, malformed, empty or in the wrong coordinate system."""


class NetworkError(PlannerError):
    """The walking network cannot be built or used (empty, disconnected, unreadable)."""


class SitingError(PlannerError):
    """A siting model cannot be built or solved."""


class SourceUnavailableError(PlannerError):
    """An online source (Nominatim/Overpass through osmnx) cannot be reached."""


class DataQualityWarning(UserWarning):
    """A recoverable data problem (far-off facility, unsnapped unit) counted in the results."""
