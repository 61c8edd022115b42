"""The two stages of ``vlmi run --ray``: image decoding on CPUs, then the model replicas.

Rows travel between stages as Arrow tables, which cannot hold PIL images:

- input rows: ``id``, ``line``, ``fields`` (the record's fields, pickled) and
  ``error`` (a record that could not be read, as JSON; ``""`` when none);
- :func:`decode_batch` (a Ray task, CPU) parses each record as the local
  runner does and loads its images and samples its videos' frames, giving
  ``sample`` (the parts as JSON, an image or a video frame standing for its
  index in ``pixels``; a video with its sampling fields and what was sampled),
  ``pixels`` (raw image bytes), ``options`` (the merged generation options as
  JSON) and ``error``;
- :class:`Replica` (a Ray actor, ``num_gpus`` per replica) loads the model once
  and answers each batch with ``answer_prepared``, giving ``id``,
  ``prediction``, ``error``, ``batch_s``, ``batch_size``, ``replica`` and
  ``video`` (what was sampled from each video, as JSON; ``""`` for none).

Only the Ray executor (:mod:`vlmi_ray.pool`) imports this module.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import time
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from PIL import Image

from vlmi.errors import VlmiError
from vlmi.plugin import (
    GenerationOptions,
    ImagePart,
    Record,
    Sample,
    TextPart,
    Video,
    VideoPart,
    VideoSampling,
    describe_model,
    prepare_records,
)

if TYPE_CHECKING:
    import pyarrow

#: Longest image or video source (a path or URL) kept next to the decoded pixels.
MAX_SOURCE_CHARS = 4096


def input_row(record: Record) -> dict[str, Any]:
    """A record as a row of the input dataset."""
    error = json.dumps(record.error.to_dict()) if record.error is not None else ""
    return {
        "id": record.id,
        "line": record.line,
        "fields": pickle.dumps(record.fields, protocol=pickle.HIGHEST_PROTOCOL),
        "error": error,
    }


def input_table(rows: list[dict[str, Any]]) -> pyarrow.Table:
    """Input rows as one Arrow table (one block of the input dataset)."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("id", pa.string()),
            ("line", pa.int64()),
            ("fields", pa.large_binary()),
            ("error", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def decode_batch(
    batch: pyarrow.Table, model: str, load_options: dict[str, Any], base: dict[str, Any]
) -> pyarrow.Table:
    """The CPU stage: parse each record and load its images, as the local runner does."""
    import pyarrow as pa

    described = describe_model(model, **load_options)
    rows = batch.to_pylist()
    records = [
        Record(
            row["id"],
            row["line"],
            fields=pickle.loads(row["fields"]) if not row["error"] else {},
            error=_CarriedError(json.loads(row["error"])) if row["error"] else None,
        )
        for row in rows
    ]
    prepared = prepare_records(described, records, GenerationOptions.from_dict(base))
    out: dict[str, list[Any]] = {"id": [], "sample": [], "pixels": [], "options": [], "error": []}
    for row, sample, generation in zip(rows, prepared.samples, prepared.generations):
        sample_json, options, error = "", "", ""
        pixels: list[bytes] = []
        if isinstance(sample, VlmiError):
            error = json.dumps(_as_dict(sample))
        else:
            sample_json, pixels = _encode(sample)
            options = json.dumps(generation.to_dict() if generation else {})
        out["id"].append(row["id"])
        out["sample"].append(sample_json)
        out["pixels"].append(pixels)
        out["options"].append(options)
        out["error"].append(error)
    return pa.table(out, schema=decoded_schema())


def decoded_schema() -> pyarrow.Schema:
    """The columns :func:`decode_batch` gives."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("sample", pa.string()),
            ("pixels", pa.list_(pa.large_binary())),
            ("options", pa.string()),
            ("error", pa.string()),
        ]
    )


def _encode(sample: Sample) -> tuple[str, list[bytes]]:
    parts: list[dict[str, Any]] = []
    pixels: list[bytes] = []
    for part in sample.parts:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(
                {"image": len(pixels), **_picture(part.image), "source": _kept(part.source)}
            )
            pixels.append(part.image.tobytes())
        else:
            frames = []
            for frame in part.frames or ():
                frames.append({"image": len(pixels), **_picture(frame)})
                pixels.append(frame.tobytes())
            # the sampling fields; the source only as a path or URL (the frames are decoded)
            video = {f.name: getattr(part.source, f.name) for f in fields(part.source)}
            video["source"] = _kept(part.source.source) or ""
            sampling = asdict(part.sampling) if part.sampling is not None else None
            parts.append({"video": video, "frames": frames, "sampling": sampling})
    return json.dumps({"parts": parts, "generation": dict(sample.generation)}), pixels


def _picture(image: Image.Image) -> dict[str, Any]:
    return {"mode": image.mode, "size": list(image.size)}


def _kept(source: Any) -> str | None:
    """A source worth carrying to the replicas: a path or URL, not bytes or a huge data URI."""
    if isinstance(source, str) and len(source) <= MAX_SOURCE_CHARS:
        return source
    return None


def _decode(record_id: str, sample_json: str, pixels: list[bytes]) -> Sample:
    data = json.loads(sample_json)
    parts: list[TextPart | ImagePart | VideoPart] = []
    for part in data["parts"]:
        if "text" in part:
            parts.append(TextPart(part["text"]))
        elif "video" in part:
            frames = tuple(_image(frame, pixels) for frame in part["frames"])
            sampling = part["sampling"]
            parts.append(
                VideoPart(
                    Video(**part["video"]),
                    frames,
                    _sampling(sampling) if sampling is not None else None,
                )
            )
        else:
            parts.append(ImagePart(part["source"], _image(part, pixels)))
    return Sample(tuple(parts), id=record_id, generation=data["generation"])


def _image(part: dict[str, Any], pixels: list[bytes]) -> Image.Image:
    size = (int(part["size"][0]), int(part["size"][1]))
    return Image.frombytes(part["mode"], size, pixels[part["image"]])


def _sampling(data: dict[str, Any]) -> VideoSampling:
    return VideoSampling(
        **{**data, "indices": tuple(data["indices"]), "timestamps": tuple(data["timestamps"])}
    )


def _sampled(sample: Sample | VlmiError) -> str:
    """What was sampled from each of a sample's videos, as the record's ``video`` field (JSON)."""
    if isinstance(sample, VlmiError) or not sample.num_videos:
        return ""
    return json.dumps([p.sampling.to_dict() for p in sample.video_parts if p.sampling is not None])


def _options(options_json: str) -> GenerationOptions:
    return GenerationOptions.from_dict(json.loads(options_json))


class Replica:
    """One model replica: ``vlmi.load`` once per actor, then one ``answer_prepared`` per batch."""

    def __init__(self, model: str, load_options: dict[str, Any]) -> None:
        import ray

        from vlmi import load

        self.model = load(model, **load_options)
        context = ray.get_runtime_context()
        self.replica = json.dumps(
            {
                "actor": (context.get_actor_id() or "")[:8],
                "node": context.get_node_id()[:8],
                "host": socket.gethostname(),
                "pid": os.getpid(),
            }
        )

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        """Answer a decoded batch; a failed sample gets its error, as in a local run."""
        import pyarrow as pa

        rows = batch.to_pylist()
        samples: list[Sample | VlmiError] = []
        generations: list[GenerationOptions | None] = []
        for row in rows:
            if row["error"]:
                samples.append(_CarriedError(json.loads(row["error"])))
                generations.append(None)
            else:
                samples.append(_decode(row["id"], row["sample"], row["pixels"]))
                generations.append(_options(row["options"]))
        began = time.perf_counter()
        answers = self.model.answer_prepared(samples, generations)
        took = round(time.perf_counter() - began, 6)
        size = sum(g is not None for g in generations)
        errors = [json.dumps(_as_dict(a)) if isinstance(a, VlmiError) else "" for a in answers]
        videos = [_sampled(sample) for sample in samples]
        return pa.table(
            {
                "id": [row["id"] for row in rows],
                "prediction": [a if isinstance(a, str) else None for a in answers],
                "error": errors,
                "batch_s": [took] * len(rows),
                "batch_size": [size] * len(rows),
                "replica": [self.replica] * len(rows),
                "video": videos,
            },
            schema=answer_schema(),
        )


def answer_schema() -> pyarrow.Schema:
    """The columns :class:`Replica` gives."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("prediction", pa.string()),
            ("error", pa.string()),
            ("batch_s", pa.float64()),
            ("batch_size", pa.int64()),
            ("replica", pa.string()),
            ("video", pa.string()),
        ]
    )


class _CarriedError(VlmiError):
    """An error found before the model stage (unreadable record, bad image), carried as is."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(record.get("message", ""))
        self.record = record


def _as_dict(error: VlmiError) -> dict[str, Any]:
    if isinstance(error, _CarriedError):
        return error.record
    return error.to_dict()


__all__ = [
    "Replica",
    "answer_schema",
    "decode_batch",
    "decoded_schema",
    "input_row",
    "input_table",
]
