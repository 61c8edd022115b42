"""Rows of VLMEvalKit's video benchmark TSVs as samples: the video and VLMEvalKit's prompt.

Files are found as VLMEvalKit finds them, from the data root (the TSV's folder):

- Video-MME (``videomme.py``): ``video/<video>.mp4`` (the ``video_path`` column is not
  read, as VLMEvalKit does not read it); subtitles from ``subtitle_path``.
- MVBench (``mvbench.py``): ``<prefix>/<video>``, a video file (``.mp4``, ``.webm``,
  ``.avi``, ...) where ``data_type`` is ``video``, a folder of frames ``00001.jpg``,
  ... at 3 fps where it is ``frame`` (the episodic-reasoning task); where ``bound`` is
  true, only ``start`` to ``end`` seconds are sampled.

Each row becomes one sample whose :class:`vlmi.Video` carries the name's frame setting
(:mod:`vlmi._vlmevalkit.video_names`). Video-MME leaves the rule to the model (VLMEvalKit's
frame rule for frame models, the model's own for the video models VLMEvalKit hands the
file to); MVBench takes the centre of each of N equal segments within the bounds
(``segments``, its ``get_index``), for every model; MVBench_MP4's frame rate, like
Video-MME's setting, is left to the model's rule. The parts, as VLMEvalKit's
``build_prompt`` orders them (its roles dropped: vlmi sends every part as the user's):

- Video-MME: the video; ``FRAMES_TMPL_NOSUB`` (or ``FRAMES_TMPL_SUB`` with the
  subtitles at the sampled frames, :mod:`vlmi._vlmevalkit.subtitles`);
  ``Question: {question}\\n{candidates, one a line}\\nAnswer: ``. VLMEvalKit's empty
  system text is left out.
- MVBench: its system text; the video; ``Question: {question}\\nOptions:\\n(A) ...``;
  ``\\nOnly give the best option.``; ``Best option:(`` (an assistant prefix in VLMEvalKit,
  which its models' wrappers send as user text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._sample import Part, TextPart, VideoPart
from .._video.values import Video
from .prompts import cell_text
from .read import parse_list_cell
from .video_names import VIDEO_MME, VideoBenchmark

Cells = Mapping[str, str | None]

_VIDEOMME_ASK = (
    "Select the best answer to the following multiple-choice question based on the video. "
    "Respond with only the letter (A, B, C, or D) of the correct option.\n"
)
#: VideoMME.FRAMES_TMPL_NOSUB and FRAMES_TMPL_SUB (videomme.py)
VIDEOMME_TEMPLATE = "\nThese are the frames of a video. " + _VIDEOMME_ASK
VIDEOMME_SUBTITLES_TEMPLATE = (
    "\nThese are the frames of a video. This video's subtitles are listed below:\n{}\n"
    + _VIDEOMME_ASK
)
#: MVBench.SYS (mvbench.py)
MVBENCH_SYSTEM = (
    "Carefully watch the video and pay attention to the cause and sequence of events, the "
    "detail and movement of objects, and the action and pose of persons. Based on your "
    "observations, select the best option that accurately addresses the question.\n"
)
MVBENCH_ASK = "\nOnly give the best option."
MVBENCH_ANSWER_PREFIX = "Best option:("
#: the frame rate of MVBench's frame folders (its ``read_frame``)
MVBENCH_FRAMES_FPS = 3.0


class RowError(ValueError):
    """A row that cannot become a sample; the message names the column."""


@dataclass(frozen=True)
class VideoPrompter:
    """How a video benchmark's rows become samples (the counterpart of ``PromptPlan``)."""

    benchmark: VideoBenchmark
    name: str
    root: Path
    dataset_type: str = "video-mcq"

    @property
    def style(self) -> str:
        """The prompt style recorded with each prediction (it holds the frame setting)."""
        return f"vlmevalkit-{self.name}"

    def style_of(self, cells: Cells) -> str:
        """Every row has the file's style."""
        return self.style

    def parts(self, cells: Cells, images: Sequence[str] = ()) -> tuple[Part, ...]:
        """The row's sample parts (see the module docstring).

        :raises RowError: a cell that cannot be read (its column named).
        """
        if self.benchmark.family == VIDEO_MME:
            return self._videomme(cells)
        return self._mvbench(cells)

    def _videomme(self, cells: Cells) -> tuple[Part, ...]:
        from .subtitles import subtitles_at_frames

        path = self.root / "video" / f"{_required(cells, 'video')}.mp4"
        bench = self.benchmark
        template = VIDEOMME_TEMPLATE
        if bench.subtitles:
            srt = self.root / _required(cells, "subtitle_path")
            text = subtitles_at_frames(path, srt, bench.nframes, bench.fps) if srt.is_file() else ""
            template = VIDEOMME_SUBTITLES_TEMPLATE.format(text)
        question = "\n".join([cell_text(cells.get("question")), *_candidates(cells)])
        video = Video(str(path), nframes=bench.nframes, fps=bench.fps)
        return VideoPart(video), TextPart(template), TextPart(f"Question: {question}\nAnswer: ")

    def _mvbench(self, cells: Cells) -> tuple[Part, ...]:
        path = self.root / cell_text(cells.get("prefix")) / _required(cells, "video")
        bench = self.benchmark
        kind = cells.get("data_type") or "video"
        if kind not in ("video", "frame"):
            raise RowError(
                f"column 'data_type': {kind!r}; MVBench's tasks are 'video' (a file) or "
                "'frame' (a folder of frames)"
            )
        start, end = _bounds(cells) if cells.get("bound") == "True" else (None, None)
        video = Video(
            str(path),
            nframes=bench.nframes,
            fps=bench.fps,
            rule="segments" if bench.nframes is not None else None,
            start=start,
            end=end,
            source_fps=MVBENCH_FRAMES_FPS if kind == "frame" else None,
        )
        options = "".join(f"({chr(ord('A') + i)}) {c}\n" for i, c in enumerate(_candidates(cells)))
        question = f"Question: {cell_text(cells.get('question'))}\nOptions:\n{options}".rstrip()
        return (
            TextPart(MVBENCH_SYSTEM),
            VideoPart(video),
            TextPart(question),
            TextPart(MVBENCH_ASK),
            TextPart(MVBENCH_ANSWER_PREFIX),
        )


def _required(cells: Cells, column: str) -> str:
    value = cells.get(column)
    if value is None:
        raise RowError(f"column {column!r} is empty; the row names no file")
    return value


def _candidates(cells: Cells) -> list[str]:
    try:
        return parse_list_cell(cell_text(cells.get("candidates")))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise RowError(f"column 'candidates': not a Python list literal ({exc})") from None


def _bounds(cells: Cells) -> tuple[float, float]:
    try:
        return float(str(cells.get("start"))), float(str(cells.get("end")))
    except ValueError:
        raise RowError(
            f"columns 'start'/'end': bound is True but they hold {cells.get('start')!r} and "
            f"{cells.get('end')!r}, not seconds"
        ) from None


def video_prompter(benchmark: VideoBenchmark, name: str, tsv: Path) -> VideoPrompter:
    """The prompter of a video benchmark file (its data root is the file's folder).

    :raises MissingDependencyError: subtitles, without pysubs2 or PyAV to read them.
    """
    if benchmark.subtitles:
        from .subtitles import require_pysubs2

        require_pysubs2()
    return VideoPrompter(benchmark, name, tsv.resolve().parent)


__all__ = [
    "MVBENCH_ANSWER_PREFIX",
    "MVBENCH_ASK",
    "MVBENCH_FRAMES_FPS",
    "MVBENCH_SYSTEM",
    "VIDEOMME_SUBTITLES_TEMPLATE",
    "VIDEOMME_TEMPLATE",
    "RowError",
    "VideoPrompter",
    "video_prompter",
]
