"""`careplan rules list|show|check`: list, print and validate jurisdiction rule profiles."""

from __future__ import annotations

import argparse
import sys

from planner.compliance.rules import RuleProfile
from planner.compliance.text import BINDING_LABELS
from planner.errors import PlannerError
from planner.io.rules import list_profiles, read_profile


def _cmd_list(args: argparse.Namespace) -> int:
    for name in list_profiles():
        profile = read_profile(name)
        label = profile.label_zh if args.lang == "zh" else profile.label_en
        sys.stdout.write(f"{name}\t{label}\t{len(profile.rules)} rules\n")
    return 0


def format_profile(profile: RuleProfile, lang: str = "zh") -> str:
    """Readable text of a profile: walk model, thresholds, zones and every rule with its source."""
    zh = lang == "zh"
    cov = profile.coverage
    lines = [
        f"{profile.name}: {profile.label_zh if zh else profile.label_en}  ({profile.origin})",
        f"walk: {profile.walk.speed_m_s} m/s, steps x{profile.walk.steps_factor}",
        "thresholds_min: " + ", ".join(f"{k}={v:g}" for k, v in cov.settlement_threshold_min.items())
        + "".join(f"; {t}: " + ", ".join(f"{k}={v:g}" for k, v in m.items())
                  for t, m in cov.type_threshold_min.items()),
        f"service circle: {', '.join(cov.required_types)}; target share {cov.target_share:g}",
        "zones: " + (", ".join(f"{z}->{s}" for z, s in profile.zone_settlement.items()) or "-"),
        "demand weights: " + (", ".join(f"{k}={v:g}" for k, v in profile.demand_weights.items())
                              or "-"),
        "",
    ]
    for rule in profile.rules:
        flag = BINDING_LABELS[rule.binding][0 if zh else 1]
        target = "-" if rule.target is None else f"{rule.target:g}"
        lines.append(f"[{rule.id}] {rule.label(lang)}")
        lines.append(f"    kind={rule.kind} target={target} ({rule.target_year}) {flag}; "
                     f"source: {rule.clause}")
    return "\n".join(lines) + "\n"


def _cmd_show(args: argparse.Namespace) -> int:
    sys.stdout.write(format_profile(read_profile(args.name), args.lang))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    profile = read_profile(args.file)
    sys.stdout.write(f"{args.file}: valid profile {profile.name!r} with {len(profile.rules)} rules\n")
    return 0


def run_rules_command(args: argparse.Namespace) -> int:
    """Run a parsed ``rules`` subcommand; a :class:`PlannerError` prints one line and returns 1."""
    try:
        return int(args.rules_func(args))
    except PlannerError as exc:
        sys.stdout.write(f"error: {exc}\n")
        return 1


def add_rules_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``rules list``, ``rules show NAME`` and ``rules check FILE``.

    Each parser sets ``func`` to :func:`run_rules_command`, so the CLI calls
    ``sys.exit(args.func(args))``.
    """
    rules = subparsers.add_parser("rules", help="list, show or check jurisdiction rule profiles")
    sub = rules.add_subparsers(dest="rules_command", required=True)
    for name, helptext, func, arg in (
        ("list", "list the shipped profiles", _cmd_list, None),
        ("show", "print a profile's parameters and rules", _cmd_show, "name"),
        ("check", "validate a profile file; exit 1 naming the bad key", _cmd_check, "file"),
    ):
        parser = sub.add_parser(name, help=helptext)
        if arg:
            parser.add_argument(arg, help="profile name or .toml path" if arg == "name"
                                else "path of a .toml profile")
        parser.add_argument("--lang", choices=("zh", "en"), default="zh")
        parser.set_defaults(func=run_rules_command, rules_func=func)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m api.cli.rules rules check FILE``) for tests and scripts."""
    parser = argparse.ArgumentParser(prog="careplan")
    add_rules_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
