"""A terminal progress bar over the named pipeline steps of ``careplan demo|analyze``."""

from __future__ import annotations

import sys
import time


class StepBar:
    """A terminal progress bar over the named pipeline steps (silent when not a terminal)."""

    STEPS = ("load", "network", "snapping", "travel", "coverage", "catchments", "write")

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=len(self.STEPS), disable=not sys.stderr.isatty(), unit="step",
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")

        self.marks: list[tuple[str, float]] = []

    def __call__(self, name: str) -> None:
        self.marks.append((name, time.perf_counter()))
        self.bar.set_description(name)
        if name in self.STEPS[1:]:
            self.bar.update(1)

    def close(self) -> None:
        self.marks.append(("", time.perf_counter()))
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()

    def seconds(self) -> dict[str, float]:
        """Wall seconds from each step to the next (or to :meth:`close`), in order."""
        out: dict[str, float] = {}
        for (name, start), (_, end) in zip(self.marks[:-1], self.marks[1:], strict=True):
            out[name] = out.get(name, 0.0) + end - start
        return out
