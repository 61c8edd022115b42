"""A run's videos: its default sampling, the sampling each record reports, the decoder check.

``vlmi run --video-sampling KEY=VALUE`` (``vlmi.run(video_sampling={...})``) gives defaults for the
sampling fields a sample's videos leave unset; they are part of the run's
settings (``options.video_sampling`` of every record). Each record of a sample with
videos says what was sampled (``"video"``: one entry per video); a resumed run
refuses an output whose videos another decoder (or decoder version) read, as
its pixels may differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from vlmi.errors import InvalidOptionError, InvalidSampleError, VlmiError

from .._model import Model
from .._options import coerce_fields
from .._preparing import parse_item
from .._record import Record
from .._sample import Sample
from .._video.values import Video, sampling_defaults


def run_video_defaults(video_sampling: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's video sampling defaults, checked; text values read for their field's type."""
    if not video_sampling:
        return {}
    if not isinstance(video_sampling, Mapping):
        raise InvalidOptionError(
            f"video_sampling must be a dict of Video fields, got {video_sampling!r}"
        )
    try:
        return sampling_defaults(coerce_fields(Video, video_sampling), "video_sampling")
    except InvalidSampleError as exc:
        raise InvalidOptionError(str(exc)) from exc


def with_video_defaults(
    records: Iterable[Record], defaults: Mapping[str, Any], model: Model[Any]
) -> Iterator[Record]:
    """The records with the run's defaults in their videos (each parsed here to hold them)."""
    for record in records:
        if record.error is not None:
            yield record
            continue
        parsed = parse_item(
            record.item,
            model.options.generation,
            images_first=model.images_first,
            where=f"line {record.line}: ",
        )
        if isinstance(parsed, VlmiError):
            yield Record(record.id, record.line, error=parsed, prompt_style=record.prompt_style)
            continue
        sample = parsed[0].with_video_defaults(defaults)
        yield Record(record.id, record.line, {"sample": sample}, prompt_style=record.prompt_style)


def sampled(sample: Sample | VlmiError) -> list[dict[str, Any]] | None:
    """What was sampled from each video of a prepared sample (``None``: it holds none)."""
    if isinstance(sample, VlmiError) or not sample.num_videos:
        return None
    return [p.sampling.to_dict() for p in sample.video_parts if p.sampling is not None]


def file_decoder(record: Mapping[str, Any]) -> str | None:
    """The decoder that read a record's video files (``None``: no video file)."""
    for entry in record.get("video") or ():
        if isinstance(entry, Mapping) and entry.get("decoder") not in (None, "frames"):
            return str(entry["decoder"])
    return None


__all__ = [
    "file_decoder",
    "run_video_defaults",
    "sampled",
    "with_video_defaults",
]
