"""``vlmi models`` and ``vlmi plugins``: what the installed plugins provide, and their state."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vlmi.errors import UnknownModelError, VlmiError

from .._install_hints import OPEN_NAMES_PLUGIN, providers_of
from .options import add_model_arguments, load_options_from


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi models`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--resolve",
        metavar="MODEL",
        help="which model MODEL (a name, alias, hub id or folder) gives here, with --plugin "
        "and -O as `vlmi run` takes them: its plugin, engine, versions and whether it needs a "
        "GPU; nothing is loaded (exit status 1 when it does not resolve)",
    )
    add_model_arguments(parser)


def add_plugins_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi plugins`` flags."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")


def run_models(args: argparse.Namespace) -> int:
    """The models table (or JSON): each name once per plugin that provides it."""
    from .._api import list_models
    from .._listing import models_listing
    from .._registry import get_registry

    if args.resolve is not None:
        return _resolve(args)
    if args.plugin or args.option:
        print("error: --plugin and -O go with --resolve MODEL", file=sys.stderr)
        return 2
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


def _resolve(args: argparse.Namespace) -> int:
    """``vlmi models --resolve MODEL``: the model ``vlmi run MODEL`` would load, not set up."""
    from .._api import describe_model
    from .._listing import resolution, resolution_error

    try:
        model = describe_model(args.resolve, **load_options_from(args))
    except VlmiError as exc:
        if not args.json:
            raise
        print(json.dumps(resolution_error(exc, _install(exc, args)), indent=2))
        return 1
    found: dict[str, Any] = resolution(model.spec, args.resolve)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        for key in ("name", "plugin", "plugin_version", "engine", "engine_version", "needs_gpu"):
            print(f"{key}: {found[key]}")
    return 0


def _install(error: VlmiError, args: argparse.Namespace) -> list[str]:
    """What to install here so that the model resolves (what the install table knows)."""
    from .._registry import get_registry

    if not isinstance(error, UnknownModelError):
        return []

    def norm(name: str) -> str:
        return name.strip().lower().replace("_", "-")

    loaded = get_registry().plugins.loaded
    here = {norm(info.distribution) for info in loaded.values()} | {norm(ep) for ep in loaded}
    if args.plugin:
        return [] if norm(args.plugin) in here else [args.plugin]
    wanted = [distribution for distribution, _ in providers_of(args.resolve) or ()]
    return [distribution for distribution in wanted if norm(distribution) not in here]


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
