"""What scoring with a judge shares: the prompts (data files), the run, the audit table.

The prompt templates are VLMEvalKit's, kept as data in ``judge_prompts/``
(each file names its source, commit and license); :func:`fill` puts a row's
text into a template in one pass, so a row's text is never read as a field.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..._judge.runner import Exchange, Judge, Procedure

#: VLMEvalKit's text for an API call that failed (a judge failure reads as this)
FAIL_MSG = "Failed to obtain answer via API."
_FIELD = re.compile(r"\{(question|options|prediction|answer|letter|text)\}")
_CJK = re.compile("[\u4e00-\u9fff]")


@lru_cache(maxsize=8)
def template(name: str) -> Mapping[str, str]:
    """A prompt data file (``mathvista``, ``mmvet``, ``mcq``, ``yorn``)."""
    text = (
        files("vlmi._vlmevalkit.score")
        .joinpath("judge_prompts")
        .joinpath(name + ".json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, str] = json.loads(text)
    return data


def fill(pattern: str, /, **values: str) -> str:
    """``pattern`` with each ``{field}`` replaced by its value, in one pass."""
    return _FIELD.sub(lambda m: values[m.group(1)], pattern)


def mathvista_prompt(question: str, prediction: str) -> str:
    """MathVista's answer-extraction prompt (``build_mathvista_gpt4_prompt``)."""
    return fill(template("mathvista")["template"], question=question, prediction=prediction)


def mmvet_prompt(question: str, answer: str, prediction: str) -> str:
    """MM-Vet's grading prompt (``build_mmvet_gpt4_prompt``), ``<AND>``/``<OR>`` spaced."""
    spaced = answer.replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return fill(
        template("mmvet")["template"], question=question, answer=spaced, prediction=prediction
    )


def mcq_prompt(question: str, choices: Mapping[str, str], prediction: str) -> str:
    """VLMEvalKit's option-matching prompt (``build_prompt``; ``build_prompt_cn`` for a
    question in Chinese)."""
    data = template("mcq")
    options = data["options_head"] + "".join(
        fill(data["option_line"], letter=letter, text=text) for letter, text in choices.items()
    )
    chosen = data["template_cn"] if _CJK.search(question) else data["template"]
    return fill(chosen, question=question, options=options, prediction=prediction)


def yorn_prompt(question: str, prediction: str) -> str:
    """VLMEvalKit's yes-or-no matching prompt (``YOrN_match_prompt``)."""
    return fill(template("yorn")["template"], question=question, prediction=prediction)


@dataclass
class Judging:
    """One scoring's judge: runs procedures, counts, and keeps the audit rows."""

    judge: Judge[Any]
    audit: list[dict[str, Any]] = field(default_factory=list)
    judged: int = 0
    failures: int = 0

    def run(
        self, procedures: Mapping[str, Procedure[Any]]
    ) -> tuple[dict[str, Any], dict[str, Exchange]]:
        """Run the procedures (see :mod:`vlmi._judge.runner`)."""
        return self.judge.run(procedures)

    def note(
        self,
        cells: Mapping[str, Any],
        prediction: str,
        result: Any,
        exchange: Exchange | None,
        *,
        failed: bool = False,
        log: str = "",
    ) -> None:
        """One row of the audit table; counts judged rows and failures."""
        turns = exchange.turns if exchange else []
        if turns:
            self.judged += 1
        self.failures += failed
        settled = "judge failed" if failed else ("judge" if turns else "rules")
        self.audit.append(
            {
                "index": cells.get("index"),
                "settled_by": settled,
                "answer": cells.get("answer"),
                "prediction": prediction,
                "result": result,
                "attempts": len(turns),
                "temperatures": " ".join(f"{r.temperature:g}" for r, _, _ in turns),
                "replies": json.dumps(
                    [
                        reply if reply is not None else f"<failed: {note}>"
                        for _, reply, note in turns
                    ],
                    ensure_ascii=False,
                ),
                "log": log,
                "prompt": turns[0][0].prompt if turns else "",
            }
        )

    def record(self) -> dict[str, Any]:
        """The score file's ``judge`` entry."""
        return self.judge.record() | {
            "judged": self.judged,
            "failures": self.failures,
            "cached": self.judge.cached,
        }

    def write_audit(self, path: Path) -> None:
        """The audit table as TSV (a spreadsheet opens it), one row per dataset row."""
        if not self.audit:
            return
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.audit[0]), delimiter="\t")
            writer.writeheader()
            writer.writerows(self.audit)


__all__ = [
    "FAIL_MSG",
    "Judging",
    "fill",
    "mathvista_prompt",
    "mcq_prompt",
    "mmvet_prompt",
    "template",
    "yorn_prompt",
]
