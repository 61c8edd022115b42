"""Test-only vlmi plugin: registers the echo models (nothing heavy is imported)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from vlmi.plugin import Command, DatasetPrompt, ImagePart, ModelSpec, Sample, TextPart, hookimpl

#: The instruction echo-own-prompt puts after multiple-choice options (its own prompt style).
OWN_MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="echo",
            aliases=("echo-test",),
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            needs_gpu=False,
            weights={"huggingface": "vlmi/echo"},
            max_images=4,
            video="frames",
            video_sampling={"rule": "vlmevalkit", "nframes": 8},
            description="echoes its input; for tests and benchmarks",
        )
    )
    register(
        ModelSpec(
            name="echo-few-frames",
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            needs_gpu=False,
            max_images=4,
            video="native",
            max_frames=3,
            description="echo taking videos of at most 3 frames",
        )
    )
    register(
        ModelSpec(
            name="echo-text",
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            needs_gpu=False,
            max_images=0,
            description="text-only echo",
        )
    )
    register(
        ModelSpec(
            name="echo-own-prompt",
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            needs_gpu=False,
            max_images=4,
            description="echo with its own multiple-choice prompt (build_dataset_prompt)",
        )
    )


@hookimpl
def build_dataset_prompt(model: str, prompt: DatasetPrompt) -> Sample | None:
    """echo-own-prompt's multiple-choice prompt: question, options, then its instruction."""
    if model != "echo-own-prompt" or prompt.dataset_type != "mcq":
        return None
    cells = prompt.cells
    options = [f"{c}. {cells[c]}" for c in "ABCDEFGH" if cells.get(c) is not None]
    text = "\n".join([str(cells.get("question")), *options, OWN_MCQ_INSTRUCTION])
    return Sample((*(ImagePart(image) for image in prompt.images), TextPart(text)))


def _add_shout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="+", help="what to shout")


def _shout(args: argparse.Namespace) -> int:
    print(" ".join(args.words).upper())
    return 0


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi echo-shout WORDS``: a command a plugin adds (for the command hook's tests)."""
    register(Command("echo-shout", "print the words in capitals", _add_shout_arguments, _shout))
