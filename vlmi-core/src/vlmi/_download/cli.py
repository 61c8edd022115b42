"""``vlmi download``: a model's weights into the hub cache (or a folder), resumable."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .._command import Command
from .._hookspecs import hookimpl
from .fetching import check_writable, client, fetch, list_selected
from .target import Target, resolve_target

T = TypeVar("T")

DESCRIPTION = (
    "Download the weights of MODEL (a name from `vlmi models`, or a hub id owner/name) "
    "through the hub's own client: only the files its engine reads (config, tokenizer, "
    "processor, remote code, safetensors weights). Files go to the hub cache, where "
    "vlmi.load(MODEL) finds them later, also where the hub cannot be reached (with a "
    "warning; HF_HUB_OFFLINE=1 skips the network); or into "
    "--local-dir, for vlmi.load(MODEL, model_path=DIR). Running it again fetches only "
    "what is missing. A hub id that no registered model names is first checked from its "
    "config.json alone (fetched into the hub cache): an architecture no installed plugin "
    "serves is refused there. "
    "Mirrors: HF_ENDPOINT=https://mirror.example (Hugging Face), or --hub modelscope."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi download``'s arguments."""
    parser.add_argument("model", help="model name or alias (see `vlmi models`), or a hub id")
    parser.add_argument(
        "--hub",
        choices=("huggingface", "modelscope"),
        help="where from (default: $VLMI_HUB or huggingface; HF_ENDPOINT picks a mirror)",
    )
    parser.add_argument("--revision", help="branch, tag or commit (default: the model's own)")
    parser.add_argument(
        "--local-dir", metavar="DIR", help="into this folder instead of the hub cache"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="list the files and their total size, download nothing",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Download (or, with --check, list) the weights; prints a summary; the exit status."""
    target = resolve_target(args.model, hub=args.hub, revision=args.revision)
    if target.local is not None:
        print(f"{target.model}: its weights are the local folder {target.local}; nothing to do")
        return 0
    local_dir = Path(args.local_dir).expanduser().resolve() if args.local_dir else None
    if local_dir is not None and not args.check:
        check_writable(local_dir)
    source = _source(target)
    if args.check:
        patterns, files = list_selected(target.hub, target.repo, target.revision, target.patterns)
        for path, size in files.items():
            print(f"{_size(size):>10}  {path}")
        print(
            f"{target.model}: {len(files)} files, {_size(sum(files.values()))} from {source} "
            f"(globs: {' '.join(patterns)}); nothing downloaded"
        )
        return 0
    if local_dir is None:  # the hub cache (vlmi.load alone never needs it writable)
        check_writable(client(target.hub).cache_dir())
    print(f"downloading {target.model} from {source}", file=sys.stderr)
    partials = _partials_root(target, local_dir)
    before = set(partials.rglob("*.incomplete")) if partials.is_dir() else set()
    try:
        fetched = _interruptible(
            lambda: fetch(
                target.hub,
                target.repo,
                target.revision,
                target.patterns,
                local_dir=local_dir,
                progress=not args.quiet,
            )
        )
    except KeyboardInterrupt:
        _stop_now(partials, before)
    print(f"{target.model}: {len(fetched.files)} files, {_size(fetched.total)} in {fetched.folder}")
    hub = ", hub='modelscope'" if target.hub == "modelscope" else ""
    if local_dir is not None:
        print(f"load with: vlmi.load({target.model!r}, model_path={str(local_dir)!r})")
    else:
        print(f"load with: vlmi.load({target.model!r}{hub})  (also offline: HF_HUB_OFFLINE=1)")
    return 0


def _interruptible(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread, so that Ctrl-C reaches this one while the hub client waits."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller as is
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="vlmi-download", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _partials_root(target: Target, local_dir: Path | None) -> Path:
    """Where the hub client keeps this repository's files while they download."""
    if local_dir is not None:
        return local_dir / ".cache"
    cache: Path = client(target.hub).cache_dir()
    if target.hub == "modelscope":
        return cache / "models" / target.repo.replace("/", "--")
    return cache / f"models--{target.repo.replace('/', '--')}"


def _stop_now(partials: Path, before: set[Path]) -> None:
    """Ctrl-C: stop the download threads too, and remove the partial files this run began.

    The hub clients download in worker threads that an interrupted main thread
    would wait for (to the end of their files); a partial file is never resumed
    by a later run (huggingface_hub names them per process), so it goes.
    """
    started = set(partials.rglob("*.incomplete")) - before if partials.is_dir() else set()
    for path in started:
        path.unlink(missing_ok=True)
    print(
        f"interrupted; {len(started)} partial file(s) removed, the complete ones kept: "
        "run the same command again to fetch the rest",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def _source(target: Target) -> str:
    revision = f"@{target.revision}" if target.revision else ""
    return f"{target.repo}{revision} on {client(target.hub).endpoint()} (plugin {target.plugin})"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi download``."""
    register(
        Command(
            "download",
            "download a model's weights (resumable)",
            add_arguments,
            run,
            description=DESCRIPTION,
        )
    )


__all__ = ["DESCRIPTION", "add_arguments", "register_commands", "run"]
