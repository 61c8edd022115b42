"""A VLMEvalKit TSV as runner records: each row read, prompted, and its prompt style noted.

The prompt is VLMEvalKit's default for the file's dataset type
(:mod:`vlmi._vlmevalkit.prompts`), or its video benchmark's for a Video-MME or MVBench
name (:mod:`vlmi._vlmevalkit.video_rows`, type ``video-mcq``), unless the plugin that registered the
answering model implements ``build_dataset_prompt`` and returns a sample for
the row. A row that cannot be read or prompted becomes an error record naming
``file:line`` and the column; the other rows go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError, InvalidSampleError, PluginError

from .._record import Record
from .._sample import Sample
from .prompts import DatasetPrompt, PromptPlan, plan_prompts
from .read import TsvRow, iter_rows, scan
from .video_names import video_benchmark
from .video_rows import VideoPrompter, video_prompter

PromptHook = Callable[[DatasetPrompt], Any]


def open_tsv(
    path: Path,
    *,
    model: Any = None,
    dataset: str | None = None,
    dataset_type: str | None = None,
) -> tuple[int, Iterator[Record]]:
    """Scan ``path`` once (row count, type), then stream its rows as records."""
    table = scan(path)
    name = dataset or path.stem
    video = video_benchmark(name)
    plan: PromptPlan | VideoPrompter
    if video is None:
        plan = plan_prompts(table, dataset, dataset_type)
    elif dataset_type is not None:
        raise InvalidOptionError(f"{name} has its own prompt: drop --dataset-type")
    else:
        plan = video_prompter(video, name, path)
    hook = _plugin_hook(model)
    model_name = getattr(model, "name", None)
    rows = iter_rows(table, dataset_name=name)
    return table.rows, _records(rows, plan, name, hook, model_name)


def _records(
    rows: Iterator[TsvRow],
    plan: PromptPlan | VideoPrompter,
    name: str,
    hook: PromptHook | None,
    model_name: str | None,
) -> Iterator[Record]:
    for row in rows:
        if row.error is not None:
            yield Record(
                row.index, row.line, prompt_style=plan.style, error=InvalidSampleError(row.error)
            )
            continue
        where = f"{name}:{row.line}"
        try:
            parts = plan.parts(row.cells, row.images)
        except InvalidSampleError as exc:  # a typed error of the row's files (a video's)
            yield Record(row.index, row.line, prompt_style=plan.style, error=exc)
            continue
        except ValueError as exc:
            message = f"{where}: {exc}"
            yield Record(
                row.index, row.line, prompt_style=plan.style, error=InvalidSampleError(message)
            )
            continue
        sample, style = Sample(parts), plan.style_of(row.cells)
        if hook is not None:
            request = DatasetPrompt(plan.dataset_type, name, row.cells, row.images, parts)
            try:
                custom = hook(request)
            except Exception as exc:
                message = f"{where}: build_dataset_prompt for {model_name!r} failed: {exc!r}"
                yield Record(
                    row.index, row.line, prompt_style=plan.style, error=PluginError(message)
                )
                continue
            if custom is not None:
                if not isinstance(custom, Sample):
                    error = PluginError(
                        f"{where}: build_dataset_prompt for {model_name!r} returned "
                        f"{type(custom).__name__}; it must return a vlmi.plugin.Sample or None"
                    )
                    yield Record(row.index, row.line, prompt_style=plan.style, error=error)
                    continue
                sample, style = custom, f"{model_name}:{plan.dataset_type}"
        yield Record(row.index, row.line, fields={"sample": sample}, prompt_style=style)


def _plugin_hook(model: Any) -> PromptHook | None:
    """The ``build_dataset_prompt`` of the plugin that registered ``model``, if any."""
    spec = getattr(model, "spec", None)
    plugin = getattr(spec, "plugin", None)
    if plugin is None:
        return None
    from .._registry import get_registry

    plugins = get_registry().plugins
    if plugin.entry_point not in plugins.loaded:
        return None
    caller = plugins.hook_of(plugin.entry_point, "build_dataset_prompt")
    if not caller.get_hookimpls():
        return None
    model_name = str(getattr(spec, "name", ""))

    def ask(request: DatasetPrompt) -> Any:
        return caller(model=model_name, prompt=request)

    return ask


__all__ = ["open_tsv"]
