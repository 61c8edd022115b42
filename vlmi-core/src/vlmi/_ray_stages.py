"""The two stages of ``vlmi run --ray``: image decoding on CPUs, then the model replicas.

Rows travel between stages as Arrow tables, which cannot hold PIL images:

- input rows: ``id``, ``line``, ``fields`` (the record's fields, pickled) and
  ``error`` (a record that could not be read, as JSON; ``""`` when none);
- :func:`decode_batch` (a Ray task, CPU) parses each record as the local
  runner does and loads its images, giving ``sample`` (the parts as JSON, an
  image standing for its index in ``pixels``), ``pixels`` (raw image bytes),
  ``options`` (the merged generation options as JSON) and ``error``;
- :class:`Replica` (a Ray actor, ``num_gpus`` per replica) loads the model once
  and answers each batch with ``answer_prepared``, giving ``id``,
  ``prediction``, ``error``, ``batch_s``, ``batch_size`` and ``replica``.

Only the Ray runner imports this module; it needs ``vlmi-core[ray]``.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import time
from typing import TYPE_CHECKING, Any

from PIL import Image

from vlmi.errors import PluginError, VlmiError

from ._api import spec_for
from ._datasets import Record
from ._generation import GenerationOptions
from ._model import Model
from ._options import parse_load_options
from ._preparing import prepare_samples
from ._sample import ImagePart, Sample, TextPart

if TYPE_CHECKING:
    import pyarrow

#: Longest image source (a path or URL) kept next to the decoded pixels.
MAX_SOURCE_CHARS = 4096

_described: dict[str, Model[Any]] = {}


def describe_model(name: str, load_options: dict[str, Any]) -> Model[Any]:
    """The model ``vlmi.load(name, **load_options)`` would give, with its options checked,
    but not set up: no weights, no engine. Enough to parse samples and load images."""
    key = json.dumps([name, load_options], sort_keys=True, default=str)
    model = _described.get(key)
    if model is None:
        spec, options = spec_for(name, load_options)  # ``plugin`` picks the provider
        cls = spec.load_factory()
        if not (isinstance(cls, type) and issubclass(cls, Model)):
            raise PluginError(f"{spec.factory} is not a vlmi.Model subclass (plugin bug)")
        model = cls(spec, parse_load_options(spec.name, cls.Options, options, spec.defaults))
        _described[key] = model
    return model


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

    from ._runner import _parse

    described = describe_model(model, load_options)
    base_options = GenerationOptions().merged(base)
    rows = batch.to_pylist()
    parsed: list[tuple[Sample, GenerationOptions] | VlmiError | dict[str, Any]] = []
    for row in rows:
        if row["error"]:
            parsed.append(json.loads(row["error"]))
            continue
        record = Record(row["id"], row["line"], fields=pickle.loads(row["fields"]))
        parsed.append(_parse(described, base_options, record))
    candidates = [p[0] for p in parsed if isinstance(p, tuple)]
    loaded = iter(prepare_samples(described, candidates))
    out: dict[str, list[Any]] = {"id": [], "sample": [], "pixels": [], "options": [], "error": []}
    for row, item in zip(rows, parsed):
        sample_json, options, error = "", "", ""
        pixels: list[bytes] = []
        if isinstance(item, dict):
            error = json.dumps(item)
        elif isinstance(item, VlmiError):
            error = json.dumps(item.to_dict())
        else:
            sample = next(loaded)
            if isinstance(sample, VlmiError):
                error = json.dumps(sample.to_dict())
            else:
                sample_json, pixels = _encode(sample)
                options = json.dumps(item[1].to_dict())
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
            continue
        image: Image.Image = part.image
        source = part.source if isinstance(part.source, str) else None
        if source is not None and len(source) > MAX_SOURCE_CHARS:
            source = None
        parts.append(
            {"image": len(pixels), "mode": image.mode, "size": list(image.size), "source": source}
        )
        pixels.append(image.tobytes())
    return json.dumps({"parts": parts, "generation": dict(sample.generation)}), pixels


def _decode(record_id: str, sample_json: str, pixels: list[bytes]) -> Sample:
    data = json.loads(sample_json)
    parts: list[TextPart | ImagePart] = []
    for part in data["parts"]:
        if "text" in part:
            parts.append(TextPart(part["text"]))
        else:
            size = (int(part["size"][0]), int(part["size"][1]))
            image = Image.frombytes(part["mode"], size, pixels[part["image"]])
            parts.append(ImagePart(part["source"], image))
    return Sample(tuple(parts), id=record_id, generation=data["generation"])


def _options(options_json: str) -> GenerationOptions:
    data = json.loads(options_json)
    data["stop"] = tuple(data["stop"])
    return GenerationOptions(**data)


class Replica:
    """One model replica: ``vlmi.load`` once per actor, then one ``answer_prepared`` per batch."""

    def __init__(self, model: str, load_options: dict[str, Any]) -> None:
        import ray

        from ._api import load

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
        return pa.table(
            {
                "id": [row["id"] for row in rows],
                "prediction": [a if isinstance(a, str) else None for a in answers],
                "error": errors,
                "batch_s": [took] * len(rows),
                "batch_size": [size] * len(rows),
                "replica": [self.replica] * len(rows),
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
    "describe_model",
    "input_row",
    "input_table",
]
