"""`careplan needs`: the synthetic demo register and the protected outreach export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from api.cli.needs_tables import places_of
from api.cli.site import rebuild_inputs
from planner.errors import InputDataError
from planner.io.older_adults import read_older_adults
from planner.needs.people import NEEDS, outreach_list, person_times


def _write_table(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if out.suffix.lower() == ".xlsx":
        frame.to_excel(tmp, index=False, engine="openpyxl")
    else:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(out)


def run_demo_register(args: argparse.Namespace) -> int:
    """Write the synthetic demo register (CSV or XLSX by suffix)."""
    from planner.synthetic.district import build_demo_district
    from planner.synthetic.older_adults import synthetic_register

    if args.out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputDataError(f"--out {args.out} must end in .csv or .xlsx")
    inputs = build_demo_district(seed=args.seed, target_nodes=args.nodes)
    frame = synthetic_register(inputs.units, seed=args.seed)
    _write_table(frame, args.out)
    sys.stdout.write(f"careplan needs demo-register: {len(frame)} synthetic people -> "
                     f"{args.out} (SYNTHETIC, not real persons)\n")
    return 0


def run_outreach(args: argparse.Namespace) -> int:
    """PROTECTED export: people whose needed service is out of reach (探访 list)."""
    result, _, used = rebuild_inputs(args)
    osm = (used.get("inputs") or {}).get("osm")
    read = read_older_adults(args.older_adults, units=result.units,
                             places=places_of(Path(osm) if osm else None))
    table = outreach_list(result, read.people, person_times(result, read.people))
    if args.community:
        table = table[(table["unit_id"] == args.community) | (table["unit_name"] == args.community)]
    if args.need:
        table = table[table["need"] == args.need]
    if args.out.suffix.lower() != ".xlsx":
        raise InputDataError(f"--out {args.out} must end in .xlsx")
    _write_table(table, args.out)
    sys.stdout.write(f"careplan needs outreach: {table['person_id'].nunique()} people, "
                     f"{len(table)} unmet needs -> {args.out} (personal data: keep it protected)\n")
    return 0


def add_needs_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `careplan needs demo-register` and `careplan needs outreach`."""
    needs = sub.add_parser("needs", help="older-adult register: demo register, outreach list")
    nsub = needs.add_subparsers(dest="needs_command", required=True)
    demo = nsub.add_parser("demo-register", help="write the synthetic demo older-adult register")
    demo.add_argument("--out", type=Path, required=True, help=".csv or .xlsx file")
    demo.add_argument("--seed", type=int, default=7, help="demo district seed")
    demo.add_argument("--nodes", type=int, default=6000, help="approximate network size")
    demo.set_defaults(handler=run_demo_register)
    out = nsub.add_parser("outreach", help="PROTECTED: people whose needed service is out of "
                                           "reach, for 探访 visits (xlsx)")
    out.add_argument("--run", type=Path, required=True, help="a careplan demo/analyze folder")
    out.add_argument("--older-adults", type=Path, required=True, help="older-adult register")
    out.add_argument("--out", type=Path, required=True, help=".xlsx file")
    out.add_argument("--community", help="only this community (code or name)")
    out.add_argument("--need", choices=NEEDS, help="only this need")
    out.add_argument("--facilities", type=Path, help="facility register of an analyze run")
    out.add_argument("--units", type=Path, help="units file of an analyze run")
    out.set_defaults(handler=run_outreach)
