"""A terminal progress bar over the named pipeline steps of ``careplan demo|analyze``."""

from __future__ import annotations

import sys


class StepBar:
    """A terminal progress bar over the named pipeline steps (silent when not a terminal)."""

    STEPS = ("load", "network", "snapping", "travel", "coverage", "catchments", "write")

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=len(self.STEPS), disable=not sys.stderr.isatty(), unit="step",
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")

    def __call__(self, name: str) -> None:
        self.bar.set_description(name)
        if name in self.STEPS[1:]:
            self.bar.update(1)

    def close(self) -> None:
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()
