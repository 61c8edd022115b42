"""VLMEvalKit's default prompts by dataset type, and how the type is chosen.

The type comes from ``--dataset-type``, else from a known VLMEvalKit dataset
name, else from the columns: option columns ``A`` and ``B`` make a
multiple-choice (``mcq``) file, answers that are all yes or no (any case) a
yes-or-no (``yorn``) file, anything else free-form (``vqa``). Questions with
``<image k>`` markers (MMMU) get their images placed at the markers.

Default prompts (VLMEvalKit's ``build_prompt``), images first:

- ``mcq``: ``Hint: {hint}\\n`` (when present), ``Question: {question}\\n``,
  ``Options:\\n``, ``A. {A}\\n`` ... (options present), then
  ``Please select the correct answer from the options above. \\n``;
- ``yorn``: the question unchanged;
- ``vqa``: the question and ``\\nAnswer the question using a single word or phrase.``;
- datasets of :data:`QUESTION_ONLY_NAMES` (OCRBench, MathVista, MM-Vet): the question alone,
  whatever the type (their VLMEvalKit classes keep the base ``build_prompt``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vlmi.errors import InvalidOptionError

from .._sample import ImagePart, Part, TextPart

if TYPE_CHECKING:
    from .read import TsvScan

DATASET_TYPES = ("mcq", "yorn", "vqa")
MCQ_INSTRUCTION = "Please select the correct answer from the options above. \n"
VQA_SUFFIX = "\nAnswer the question using a single word or phrase."

#: Name fragments of VLMEvalKit datasets, by type (the first match wins).
_NAMED_TYPES: tuple[tuple[str, str], ...] = (
    ("MME-RealWorld", "mcq"),
    ("MMERealWorld", "mcq"),
    ("MMBench", "mcq"),
    ("CCBench", "mcq"),
    ("SEEDBench", "mcq"),
    ("MMStar", "mcq"),
    ("AI2D", "mcq"),
    ("MMMU", "mcq"),
    ("BLINK", "mcq"),
    ("ScienceQA", "mcq"),
    ("RealWorldQA", "mcq"),
    ("HallusionBench", "yorn"),
    ("POPE", "yorn"),
    ("AMBER", "yorn"),
    ("MME", "yorn"),
    ("OCRBench", "vqa"),
    ("TextVQA", "vqa"),
    ("DocVQA", "vqa"),
    ("InfoVQA", "vqa"),
    ("ChartQA", "vqa"),
    ("OCRVQA", "vqa"),
    ("GQA", "vqa"),
)

#: Name fragments of VLMEvalKit datasets whose prompt is the question alone (their classes keep
#: ``ImageBaseDataset.build_prompt``), whatever their type
QUESTION_ONLY_NAMES: tuple[str, ...] = ("OCRBench", "MathVista", "MMVet")


@dataclass(frozen=True)
class PromptPlan:
    """How a file's rows become prompts: its type, interleaving, where that came from, and
    whether the prompt is the question alone (a dataset of :data:`QUESTION_ONLY_NAMES`)."""

    dataset_type: str
    interleaved: bool
    reason: str
    question_only: bool = False

    @property
    def style(self) -> str:
        """The prompt style of a row without image markers, e.g. ``vlmevalkit-mcq``."""
        return f"vlmevalkit-{self.dataset_type}"

    def style_of(self, cells: Mapping[str, str | None]) -> str:
        """The style recorded for a row: ``-interleaved`` added where its images go at markers."""
        text = prompt_text(cells, self.dataset_type, self.question_only)
        marked = self.interleaved and "<image " in text
        return self.style + ("-interleaved" if marked else "")

    def parts(self, cells: Mapping[str, str | None], images: Sequence[str]) -> tuple[Part, ...]:
        """The row's sample parts (:func:`default_parts`).

        :raises ValueError: a malformed image marker in the question (the message names it).
        """
        try:
            return default_parts(cells, images, self)
        except ValueError as exc:
            raise ValueError(f"column 'question': {exc}") from None


@dataclass(frozen=True)
class DatasetPrompt:
    """What a plugin's ``build_dataset_prompt`` hook gets for one row of a dataset file.

    :param dataset_type: ``"mcq"``, ``"yorn"`` or ``"vqa"``; ``"video-mcq"`` for Video-MME
        and MVBench (their ``default`` holds a :class:`vlmi.plugin.VideoPart`).
    :param dataset_name: the VLMEvalKit dataset name (``--dataset``), or the file's stem.
    :param cells: every cell of the row but ``image``; ``None`` where pandas reads NaN.
    :param images: the row's images (base64 strings or file paths), in order.
    :param default: VLMEvalKit's default prompt for the row, as sample parts.
    """

    dataset_type: str
    dataset_name: str
    cells: Mapping[str, str | None]
    images: tuple[str, ...]
    default: tuple[Part, ...]


def type_from_name(name: str | None) -> str | None:
    """The type a VLMEvalKit dataset name implies (``None`` for a custom name)."""
    for fragment, dataset_type in _NAMED_TYPES:
        if name and fragment in name:
            return dataset_type
    return None


def plan_prompts(
    table: TsvScan, dataset_name: str | None = None, dataset_type: str | None = None
) -> PromptPlan:
    """Choose the dataset type (see the module docstring)."""
    interleaved = table.has_markers or bool(dataset_name and "MMMU" in dataset_name)
    alone = any(fragment in (dataset_name or "") for fragment in QUESTION_ONLY_NAMES)
    if dataset_type is not None:
        if dataset_type not in DATASET_TYPES:
            raise InvalidOptionError(
                f"unknown dataset type {dataset_type!r}; use one of {', '.join(DATASET_TYPES)}"
            )
        return PromptPlan(dataset_type, interleaved, "--dataset-type")
    named = type_from_name(dataset_name)
    if named is not None:
        return PromptPlan(named, interleaved, f"dataset name {dataset_name!r}", alone)
    if table.has_options:
        return PromptPlan("mcq", interleaved, "option columns A and B", alone)
    if table.answers and table.yes_no:
        return PromptPlan("yorn", interleaved, "answers are Yes/No", alone)
    return PromptPlan("vqa", interleaved, "no options, answers not Yes/No", alone)


def cell_text(cell: str | None) -> str:
    """A cell as text, an empty (NA) cell as ``"nan"``: what pandas gives VLMEvalKit for it."""
    return "nan" if cell is None else cell


def prompt_text(
    cells: Mapping[str, str | None], dataset_type: str, question_only: bool = False
) -> str:
    """The text VLMEvalKit's default ``build_prompt`` makes from a row (``question_only``: the
    question alone, as for the datasets of :data:`QUESTION_ONLY_NAMES`)."""
    question = cell_text(cells.get("question"))
    if dataset_type == "yorn" or question_only:
        return question
    if dataset_type == "vqa":
        return question + VQA_SUFFIX
    options = [(c, cells[c]) for c in string.ascii_uppercase if cells.get(c) is not None]
    hint = cells.get("hint")
    text = f"Hint: {hint}\n" if hint is not None else ""
    text += f"Question: {question}\n"
    if options:
        text += "Options:\n" + "".join(f"{c}. {o}\n" for c, o in options) + MCQ_INSTRUCTION
    return text


def default_parts(
    cells: Mapping[str, str | None], images: Sequence[str], plan: PromptPlan
) -> tuple[Part, ...]:
    """Images then text, or (interleaved) each image at its ``<image k>`` marker.

    :raises ValueError: a marker that names no image, or is not ``<image k>`` with k in 1..9.
    """
    text = prompt_text(cells, plan.dataset_type, plan.question_only)
    pieces = text.split("<image ")
    if not plan.interleaved or len(pieces) == 1:
        return (*(ImagePart(i) for i in images), TextPart(text))
    parts: list[Part] = [TextPart(pieces[0])] if pieces[0] else []
    for piece in pieces[1:]:
        if len(piece) < 2 or not piece[0].isdigit() or piece[1] != ">":
            raise ValueError(f"malformed image marker '<image {piece[:3]}'")
        number = int(piece[0])
        if not 1 <= number <= len(images):
            raise ValueError(f"marker <image {number}> but the row has {len(images)} image(s)")
        parts.append(ImagePart(images[number - 1]))
        if piece[2:]:
            parts.append(TextPart(piece[2:]))
    return tuple(parts)


__all__ = [
    "DATASET_TYPES",
    "MCQ_INSTRUCTION",
    "QUESTION_ONLY_NAMES",
    "VQA_SUFFIX",
    "DatasetPrompt",
    "PromptPlan",
    "cell_text",
    "default_parts",
    "plan_prompts",
    "prompt_text",
    "type_from_name",
]
