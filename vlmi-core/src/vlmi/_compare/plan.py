"""The plan file of ``vlmi compare``: datasets, models and where results go (TOML).

Every error names the file, the line and the key, and is raised before
anything runs. Paths are relative to the plan file's folder; ``~`` expands.
That holds for a model's ``name`` when it is a folder and for its
``options.model_path`` too: the entry keeps (and its hash covers) the
absolute path, whatever folder ``vlmi compare`` runs from. ``judge`` (plan-wide, or
a dataset's own) is read by :mod:`.judges`, ``suite`` (the average column) by
:mod:`.suite`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from vlmi.errors import InvalidOptionError

from .._generation import GENERATION_OPTION_NAMES
from .judges import JudgeEntry, parse_judge
from .toml_lines import KeyLines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOP_KEYS = ("output", "jobs", "generation", "picture", "judge", "suite", "datasets", "models")
DATASET_KEYS = ("path", "name", "type", "judge")
MODEL_KEYS = (
    "name",
    "label",
    "python",
    "plugin",
    "options",
    "generation",
    "gpus",
    "batch_size",
)
PICTURE_KEYS = ("categories",)
DATASET_TYPES = ("mcq", "yorn", "vqa")
SUFFIXES = (".tsv", ".jsonl")


class PlanError(InvalidOptionError):
    """The plan file is wrong; the message names the line and key."""


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset: its file, its VLMEvalKit name (default: the stem), type and judge (its own,
    else the plan's)."""

    path: Path
    name: str
    type: str | None = None
    judge: JudgeEntry | None = None

    @property
    def scored(self) -> bool:
        """VLMEvalKit TSVs are scored; JSONL inputs give predictions only."""
        return self.path.suffix.lower() == ".tsv"


@dataclass(frozen=True)
class ModelEntry:
    """One model entry: a name in an environment, with its plugin (None: the default one)
    and options."""

    name: str
    label: str
    python: str
    options: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)
    gpus: tuple[str, ...] = ()
    batch_size: int | None = None  # None: the model's preferred_batch_size
    plugin: str | None = None

    @property
    def load_options(self) -> dict[str, Any]:
        """What ``vlmi.load`` gets besides the name: the options, and ``plugin`` when chosen."""
        return {"plugin": self.plugin, **self.options} if self.plugin else dict(self.options)

    @property
    def key(self) -> str:
        """The folder of its outputs: the label, and a hash of what changes the answers."""
        what = {"name": self.name, "options": self.load_options, "generation": self.generation}
        digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:8]
        return f"{slug(self.label)}-{digest}"


@dataclass(frozen=True)
class Plan:
    """A parsed, checked plan."""

    source: Path
    output: Path
    datasets: tuple[DatasetEntry, ...]
    models: tuple[ModelEntry, ...]
    jobs: int = 4
    picture_categories: str | None = None
    judge: JudgeEntry | None = None
    #: the average column: "opencompass", or the names of the datasets it averages
    suite: str | tuple[str, ...] | None = None


def slug(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "x"


def file_name(text: str) -> str:
    """The form two names must not share: their file name, letter case aside.

    Two datasets (or model labels) whose names differ only there would write
    one file (``MMBench_DEV_EN`` and ``MMBench DEV EN``; ``MME`` and ``mme`` on
    a file system that ignores case).
    """
    return slug(text).casefold()


def load_plan(path: str | Path) -> Plan:
    """Read and check the plan file at ``path``."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise PlanError(f"plan file {str(source)!r} does not exist")
    text = source.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{source.name}: not valid TOML: {exc}") from None
    return _Parser(source, KeyLines(text)).plan(data)


class _Parser:
    def __init__(self, source: Path, lines: KeyLines) -> None:
        self.source = source
        self.base = source.parent
        self.lines = lines

    def fail(self, message: str, key: str | None, table: str | None = None, i: int = 0) -> NoReturn:
        where = f"[[{table}]] #{i + 1}, " if table else ""
        raise PlanError(f"{self.source.name}:{self.lines.of(key, table, i)}: {where}{message}")

    def known(
        self, data: dict[str, Any], allowed: tuple[str, ...], table: str | None, i: int = 0
    ) -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"unknown key {key!r} (known: {', '.join(allowed)})", key, table, i)

    def plan(self, data: dict[str, Any]) -> Plan:
        self.known(data, TOP_KEYS, None)
        output = data.get("output", "results")
        if not isinstance(output, str) or not output:
            self.fail("'output' must be a folder path", "output")
        jobs = data.get("jobs", 4)
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            self.fail("'jobs' must be a whole number >= 1", "jobs")
        generation = self.generation(data.get("generation", {}), None)
        picture = data.get("picture", {})
        if not isinstance(picture, dict):
            self.fail("'picture' must be a table, e.g. { categories = \"MMBench\" }", "picture")
        self.known(picture, PICTURE_KEYS, None)
        judge = self.judge(data["judge"], None) if "judge" in data else None
        datasets = self.datasets(data.get("datasets"), judge)
        suite = self.suite(data.get("suite"), datasets)
        categories = picture.get("categories")
        if categories is not None and categories not in {d.name for d in datasets}:
            self.fail(f"picture.categories {categories!r} names no dataset", "picture")
        models = self.models(data.get("models"), generation)
        return Plan(
            self.source,
            (self.base / Path(output).expanduser()).resolve(),
            datasets,
            models,
            jobs,
            categories,
            judge,
            suite,
        )

    def generation(self, value: Any, table: str | None, i: int = 0) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("'generation' must be a table, e.g. { max_new_tokens = 64 }", "generation")
        for key in value:
            if key not in GENERATION_OPTION_NAMES:
                self.fail(
                    f"unknown generation option {key!r} "
                    f"(known: {', '.join(GENERATION_OPTION_NAMES)})",
                    "generation",
                    table,
                    i,
                )
        return dict(value)

    def judge(self, value: Any, i: int | None) -> JudgeEntry:
        table = None if i is None else "datasets"

        def fail(message: str, key: str) -> NoReturn:
            self.fail(message, key, table, i or 0)

        return parse_judge(value, self.base, fail)

    def suite(self, value: Any, datasets: tuple[DatasetEntry, ...]) -> str | tuple[str, ...] | None:
        from .suite import parse_suite

        def fail(message: str, key: str) -> NoReturn:
            self.fail(message, key)

        return parse_suite(value, [d.name for d in datasets], fail)

    def datasets(self, value: Any, judge: JudgeEntry | None) -> tuple[DatasetEntry, ...]:
        if not isinstance(value, list) or not value:
            self.fail('no [[datasets]]: add at least one, e.g. path = "MME.tsv"', None)
        found: list[DatasetEntry] = []
        for i, item in enumerate(value):
            self.known(item, DATASET_KEYS, "datasets", i)
            if not isinstance(item.get("path"), str):
                self.fail("'path' is required (a .tsv or .jsonl file)", None, "datasets", i)
            path = (self.base / Path(item["path"]).expanduser()).resolve()
            if path.suffix.lower() not in SUFFIXES:
                self.fail(f"{item['path']!r} is not a .tsv or .jsonl file", "path", "datasets", i)
            if not path.is_file():
                self.fail(f"dataset {str(path)!r} does not exist", "path", "datasets", i)
            kind = item.get("type")
            if kind is not None and kind not in DATASET_TYPES:
                self.fail(f"type must be one of {', '.join(DATASET_TYPES)}", "type", "datasets", i)
            name = item.get("name", path.stem)
            if not isinstance(name, str) or not name:
                self.fail("'name' must be a dataset name", "name", "datasets", i)
            for j, other in enumerate(found):
                if other.name == name:
                    self.fail(
                        f"a second dataset named {name!r}; give one a 'name'", "path", "datasets", i
                    )
                if file_name(other.name) == file_name(name):
                    self.fail(
                        f"{name!r} and [[datasets]] #{j + 1} {other.name!r} would share one "
                        f"file ({slug(name)!r}, letter case aside); give one a different 'name'",
                        "name" if "name" in item else "path",
                        "datasets",
                        i,
                    )
            own = self.judge(item["judge"], i) if "judge" in item else judge
            found.append(DatasetEntry(path, name, kind, own))
        return tuple(found)

    def models(self, value: Any, generation: dict[str, Any]) -> tuple[ModelEntry, ...]:
        if not isinstance(value, list) or not value:
            self.fail('no [[models]]: add at least one, e.g. name = "gpt-4o"', None)
        found: list[ModelEntry] = []
        for i, item in enumerate(value):
            entry = self.model(item, i, generation)
            for j, other in enumerate(found):
                same = (other.name, other.load_options, other.generation) == (
                    entry.name,
                    entry.load_options,
                    entry.generation,
                )
                if file_name(other.label) == file_name(entry.label):
                    hint = (
                        "the same model twice with the same options: remove one, or give it a "
                        "'label'"
                        if same
                        else "give one of them a 'label'"
                    )
                    message = f"{entry.label!r} is already [[models]] #{j + 1}; {hint}"
                    if other.label != entry.label:
                        message = (
                            f"{entry.label!r} and [[models]] #{j + 1} {other.label!r} would share "
                            f"one file name ({slug(entry.label)!r}, letter case aside); give one "
                            "of them a different 'label'"
                        )
                    self.fail(
                        message,
                        "label" if "label" in item else "name",
                        "models",
                        i,
                    )
            found.append(entry)
        return tuple(found)

    def model(self, item: dict[str, Any], i: int, generation: dict[str, Any]) -> ModelEntry:
        self.known(item, MODEL_KEYS, "models", i)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            self.fail("'name' is required (a model name, see `vlmi models`)", None, "models", i)
        label = item.get("label", name)
        if not isinstance(label, str) or not label:
            self.fail("'label' must be text", "label", "models", i)
        python = sys.executable
        if "python" in item:
            given = Path(str(item["python"])).expanduser()
            path = given if given.is_absolute() else self.base / given
            if not path.exists():
                self.fail(
                    f"python {str(path)!r} does not exist (the python of the environment that "
                    "holds the model's plugin, e.g. ~/envs/vllm/bin/python)",
                    "python",
                    "models",
                    i,
                )
            python = str(path.absolute())  # a venv's python is a link: keep it, not its target
        options = item.get("options", {})
        if not isinstance(options, dict):
            self.fail("'options' must be a table, e.g. { tp = 2 }", "options", "models", i)
        options = dict(options)
        plugin = self.plugin(item.get("plugin"), options.pop("plugin", None), i)
        if isinstance(options.get("model_path"), str):
            options["model_path"] = self.place(options["model_path"], folder=True)
        own = self.generation(item.get("generation", {}), "models", i)
        gpus = self.gpus(item.get("gpus"), i)
        batch_size = item.get("batch_size")  # none: `vlmi run`'s default, the model's own
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
        ):
            self.fail("'batch_size' must be a whole number >= 1", "batch_size", "models", i)
        return ModelEntry(
            self.place(name, folder=False),
            label,
            python,
            options,
            generation | own,
            gpus,
            batch_size,
            plugin,
        )

    def plugin(self, value: Any, in_options: Any, i: int) -> str | None:
        """The plan's ``plugin``, or ``options.plugin`` (the same thing, as ``-O`` takes it)."""
        for given, key in ((value, "plugin"), (in_options, "options")):
            if given is not None and (not isinstance(given, str) or not given.strip()):
                self.fail(
                    "'plugin' must be a distribution name, e.g. \"vlmi-vllm\"", key, "models", i
                )
        if value is not None and in_options is not None and value != in_options:
            self.fail(
                f"plugin {value!r} and options.plugin {in_options!r} differ; keep one",
                "plugin",
                "models",
                i,
            )
        chosen = value if value is not None else in_options
        return chosen.strip() if isinstance(chosen, str) else None

    def place(self, value: str, folder: bool) -> str:
        """A folder named relative to the plan as an absolute path; other names as given.

        A value that starts with ``.``, ``~`` or ``/`` is a path. Another is one when that
        folder exists next to the plan and the value has a ``/`` (else it is a hub id), or
        ``folder`` says it names one, or the folder holds a ``config.json`` (a checkpoint,
        not a model name).
        """
        given = Path(value).expanduser()
        candidate = given if given.is_absolute() else self.base / given
        if value.startswith((".", "~", "/")) or given.is_absolute():
            return str(candidate.resolve())
        if candidate.is_dir() and (folder or "/" in value or (candidate / "config.json").is_file()):
            return str(candidate.resolve())
        return value

    def gpus(self, value: Any, i: int) -> tuple[str, ...]:
        if value is None:
            return ()
        items: Any = value.split(",") if isinstance(value, str) else value
        if isinstance(items, int) and not isinstance(items, bool):
            items = [items]
        if not isinstance(items, list) or not all(
            re.fullmatch(r"\d+", str(g).strip()) for g in items
        ):
            self.fail("'gpus' must be GPU numbers, e.g. \"0,1\" or [0, 1]", "gpus", "models", i)
        return tuple(str(g).strip() for g in items)


__all__ = [
    "DatasetEntry",
    "ModelEntry",
    "Plan",
    "PlanError",
    "file_name",
    "load_plan",
    "slug",
]
