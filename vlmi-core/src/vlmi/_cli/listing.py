"""``vlmi models`` and ``vlmi plugins``: what the installed plugins provide, and their state."""

from __future__ import annotations

import argparse
import json
import sys

from .._install_hints import OPEN_NAMES_PLUGIN


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi models`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_plugins_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi plugins`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")


def run_models(args: argparse.Namespace) -> int:
    """The models table (or JSON): each name once per plugin that provides it."""
    from .._api import list_models
    from .._listing import models_listing
    from .._registry import get_registry

    rows = list_models()
    registry = get_registry()
    if args.json:
        print(json.dumps(models_listing(registry), indent=2))
    elif not rows:
        print(
            "No models: install a plugin, e.g. pip install "
            f"{OPEN_NAMES_PLUGIN} (see `vlmi plugins`)."
        )
    else:
        shared = {r.name for r in rows if sum(o.name == r.name for o in rows) > 1}
        table = [("NAME", "FAMILY", "ENGINE", "WEIGHTS", "PLUGIN", "ALIASES")]
        for row in rows:
            mark = " *" if row.name in shared and row.default else ""
            table.append(
                (
                    row.name + mark,
                    row.family,
                    f"{row.engine} {row.engine_version or ''}".strip(),
                    row.default_weights or "-",
                    f"{row.distribution} {row.version}",
                    ", ".join(row.aliases) or "-",
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for line in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        if shared:
            print("* the default of a name several plugins provide; pick another with --plugin")
    for name, specs in sorted(registry.conflicts.items()):
        owners = " and ".join(sorted({s.plugin.distribution if s.plugin else "?" for s in specs}))
        print(
            f"warning: model name {name!r} is claimed by {owners} and no rule decides; "
            "it needs --plugin",
            file=sys.stderr,
        )
    if registry.plugins.failures:
        print("warning: some plugins failed to load; run `vlmi plugins`", file=sys.stderr)
    return 0


def run_plugins(args: argparse.Namespace) -> int:
    """Each plugin's version and state, its load errors and name conflicts (or JSON)."""
    from .._listing import plugins_listing
    from .._registry import get_registry

    listing = plugins_listing(get_registry())
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    records, errors, conflicts = listing["plugins"], listing["errors"], listing["conflicts"]
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
