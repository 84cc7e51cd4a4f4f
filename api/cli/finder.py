"""`careplan finder`: the residents' finder and the meal map as offline HTML files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.cli.site import rebuild_inputs
from planner.io.finder_inputs import load_finder
from planner.io.folder import write_folder_atomically


def _sources(used: dict[str, Any]) -> tuple[Path | None, Path | None, str]:
    inputs = used.get("inputs") or {}
    osm = inputs.get("osm")
    fac = inputs.get("facilities")
    return (Path(osm) if osm else None, Path(fac) if fac else None,
            str(inputs.get("coords") or "wgs84"))


def run_finder(args: argparse.Namespace) -> int:
    """Write finder.html (all services) and meals.html (助餐服务地图) for a run."""
    from maps.finder import build_finder_page

    plan, _, used = rebuild_inputs(args)
    osm, register, coords = _sources(used)
    finder = load_finder(plan, osm=osm, register=register, coords=coords)
    pages = {"finder.html": build_finder_page(finder, plan, mode="care", lang=args.lang),
             "meals.html": build_finder_page(finder, plan, mode="meals", lang=args.lang)}
    writers = {name: (lambda target, text=text: target.write_text(text, encoding="utf-8"))
               for name, text in pages.items()}
    write_folder_atomically(args.out, writers, marker="finder.html", what="finder")
    sys.stdout.write(f"careplan finder: {len(finder.places)} places, "
                     f"{finder.index.network.n_nodes} network nodes; open "
                     f"{args.out / 'finder.html'} (works offline)\n")
    return 0


def add_finder_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `careplan finder`."""
    p = sub.add_parser("finder", help="residents' service finder and meal map as offline HTML")
    p.add_argument("--run", type=Path, required=True, help="a careplan demo/analyze output folder")
    p.add_argument("--out", type=Path, required=True, help="output folder for the HTML files")
    p.add_argument("--facilities", type=Path, help="facility register of an analyze run")
    p.add_argument("--units", type=Path, help="units file of an analyze run")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language when opened")
    p.set_defaults(handler=run_finder)
