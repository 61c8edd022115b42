"""Answer extraction for multiple-choice and yes-or-no rows, as VLMEvalKit's exact matching.

Multiple choice (``can_infer``): punctuation ``.()[],:;!*#{}`` becomes
spaces; if exactly one option letter (upper case) stands as a word and it is
among the last 4 words, that letter is the answer; else "(correct) answer is
X" (any case, X in A-D) gives X; else, when the answer is at most twice as
long as all option texts together, exactly one option text found in it
(ignoring case) gives that option. A lone ``Z`` means "no answer". Refusal
phrases VLMEvalKit knows map to ``Z`` too.

Yes or no (``YOrN_Extraction``): the lower-cased answer with punctuation
processed as in the VQA evaluation, split into words: ``yes`` without
``no`` is ``Yes``, ``no`` without ``yes`` is ``No``, else ``Unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .vqa import process_punctuation

_SPACED = ".()[],:;!*#{}"
_ANSWER_IS = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")
_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
_API_FAILURE = "Failed to obtain answer via API"


def option_letter(answer: str, choices: Mapping[str, str]) -> str | None:
    """The option letter the answer gives by its letters (``None``: none found)."""
    if _API_FAILURE in answer:
        return None
    if any(refusal in answer for refusal in _REFUSALS):
        return "Z"
    words = answer.translate(str.maketrans(_SPACED, " " * len(_SPACED))).split()
    found = [c for c in choices if c in words]
    if len(found) == 1:
        letter = found[0]
        if words.index(letter) > len(words) - 5:
            return letter
    elif not found and "Z" in words:
        return "Z"
    match = _ANSWER_IS.search(answer)
    if match and match.group(1).upper() in choices:
        return match.group(1).upper()
    return None


def option_by_text(answer: str, choices: Mapping[str, str]) -> str | None:
    """The option whose text, alone among the options, appears in the answer."""
    answer = answer.lower()
    if len(answer) > 2 * sum(len(text) for text in choices.values()):
        return None
    found = [c for c, text in choices.items() if text.lower() in answer]
    return found[0] if len(found) == 1 else None


def extract_option(answer: str, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit's ``can_infer``: by letter first, then by option text."""
    return option_letter(answer, choices) or option_by_text(answer, choices)


def extract_yes_no(answer: str) -> str:
    """``"Yes"``, ``"No"`` or ``"Unknown"``."""
    words = process_punctuation(answer.lower()).split()
    if "yes" in words and "no" not in words:
        return "Yes"
    if "no" in words and "yes" not in words:
        return "No"
    return "Unknown"


__all__ = ["extract_option", "extract_yes_no", "option_by_text", "option_letter"]
