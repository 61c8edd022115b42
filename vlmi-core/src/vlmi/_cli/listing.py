"""``vlmi models`` and ``vlmi plugins``: what the installed plugins provide, and their state."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._install_hints import OPEN_NAMES_PLUGIN


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi models`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_plugins_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi plugins`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")


def run_models(args: argparse.Namespace) -> int:
    from .._api import list_models
    from .._registry import get_registry

    rows = list_models()
    registry = get_registry()
    if args.json:
        print(json.dumps([spec.to_dict() for spec in registry.models()], indent=2))
    elif not rows:
        print(
            "No models: install a plugin, e.g. pip install "
            f"{OPEN_NAMES_PLUGIN} (see `vlmi plugins`)."
        )
    else:
        table = [("NAME", "FAMILY", "ENGINE", "WEIGHTS", "PLUGIN", "ALIASES")]
        for row in rows:
            table.append(
                (
                    row.name,
                    row.family,
                    row.engine,
                    row.default_weights or "-",
                    f"{row.distribution} {row.version}",
                    ", ".join(row.aliases) or "-",
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for line in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    for name, specs in sorted(registry.conflicts.items()):
        owners = " and ".join(s.plugin.distribution if s.plugin else "?" for s in specs)
        print(
            f"warning: model name {name!r} is claimed by {owners}; it is unusable", file=sys.stderr
        )
    if registry.plugins.failures:
        print("warning: some plugins failed to load; run `vlmi plugins`", file=sys.stderr)
    return 0


def run_plugins(args: argparse.Namespace) -> int:
    from .._registry import get_registry

    registry = get_registry()
    plugins = registry.plugins
    counts: dict[str, int] = {}
    for spec in registry.specs:
        if spec.plugin:
            counts[spec.plugin.entry_point] = counts.get(spec.plugin.entry_point, 0) + 1
    records: list[dict[str, Any]] = []
    for name, info in sorted(plugins.loaded.items()):
        failed = any(f.entry_point == name for f in plugins.failures)
        records.append(
            {
                "entry_point": name,
                "distribution": info.distribution,
                "version": info.version,
                "status": "error" if failed else "loaded",
                "models": counts.get(name, 0),
            }
        )
    for info in sorted(plugins.skipped.values(), key=lambda i: (i.entry_point, i.distribution)):
        records.append(
            {
                "entry_point": info.entry_point,
                "distribution": info.distribution,
                "version": info.version,
                "status": "disabled",
                "models": 0,
            }
        )
    for failure in plugins.failures:
        if failure.entry_point not in plugins.loaded:
            records.append(
                {
                    "entry_point": failure.entry_point,
                    "distribution": failure.distribution,
                    "version": failure.version,
                    "status": "error",
                    "models": 0,
                }
            )
    errors = [
        {
            "entry_point": f.entry_point,
            "distribution": f.distribution,
            "stage": f.stage,
            "error": f.error,
            "details": f.details,
        }
        for f in plugins.failures
    ]
    conflicts = {
        name: [s.plugin.distribution if s.plugin else "?" for s in specs]
        for name, specs in registry.conflicts.items()
    }
    if args.json:
        print(json.dumps({"plugins": records, "errors": errors, "conflicts": conflicts}, indent=2))
        return 0
    if not records:
        print(f"No vlmi plugins installed. Install one, e.g. pip install {OPEN_NAMES_PLUGIN}")
    for rec in records:
        print(
            f"{rec['distribution']} {rec['version']} (entry point {rec['entry_point']!r}): "
            f"{rec['status']}, {rec['models']} model(s)"
        )
    for err in errors:
        print(f"  error in {err['distribution']} while {err['stage']}ing: {err['error']}")
        if args.verbose:
            print("    " + err["details"].replace("\n", "\n    "))
    for name, owners in sorted(conflicts.items()):
        print(f"  conflict: model name {name!r} claimed by {' and '.join(owners)}")
    return 0


__all__ = ["add_models_arguments", "add_plugins_arguments", "run_models", "run_plugins"]
