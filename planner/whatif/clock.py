"""Per-step wall time of a what-if (for the benchmark's split; off unless a clock is given)."""

from __future__ import annotations

from time import perf_counter_ns


class StepClock:
    """Adds the nanoseconds since the previous :meth:`lap` to the step named (``ns``)."""

    def __init__(self) -> None:
        self.ns: dict[str, int] = {}
        self._last = perf_counter_ns()

    def start(self) -> None:
        """Restart the running lap."""
        self._last = perf_counter_ns()

    def lap(self, step: str) -> None:
        """Charge the time since the last lap to ``step``."""
        now = perf_counter_ns()
        self.ns[step] = self.ns.get(step, 0) + now - self._last
        self._last = now


def lap(clock: StepClock | None, step: str) -> None:
    """:meth:`StepClock.lap` when a clock is given."""
    if clock is not None:
        clock.lap(step)
