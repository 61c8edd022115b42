"""Write examples/mmbench_like.tsv: a tiny benchmark in VLMEvalKit's MMBench layout.

Four colour questions, each with a rotated copy (index + 1,000,000, options
shifted, its ``image`` cell referring to the original row's index), as
MMBench's circular evaluation expects; 24x24 PNG squares as base64; a hint on
some rows, NaN elsewhere. Written by pandas exactly as VLMEvalKit writes its
TSVs (``DataFrame.to_csv(sep="\\t", index=False)``). Needs pandas and Pillow.

    python examples/make_mmbench_like.py
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd
from PIL import Image

COLOURS = {"red": (220, 30, 30), "green": (30, 160, 60), "blue": (40, 70, 220)}
QUESTIONS = [  # (colour shown, options A-C, answer, hint, category)
    ("red", ["red", "green", "blue"], "A", None, "colour"),
    ("green", ["blue", "green", "red"], "B", "The square fills the picture.", "colour"),
    ("blue", ["green", "red", "blue"], "C", None, "colour"),
    ("red", ["warm", "cold", None], "A", "Red is a warm colour.", "temperature"),
]


def square(colour: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), COLOURS[colour]).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def main() -> None:
    rows = []
    for number, (colour, options, answer, hint, category) in enumerate(QUESTIONS, start=1):
        question = "What colour is the square?" if category == "colour" else "Is it warm or cold?"
        kept = [o for o in options if o is not None]
        shift = 1  # the copy moves every option one place up
        rotated = kept[shift:] + kept[:shift]
        rotated_answer = "ABC"[rotated.index(kept["ABC".index(answer)])]
        for index, image, opts, truth in (
            (number, square(colour), options, answer),
            (
                number + 1_000_000,
                str(number),
                rotated + [None] * (3 - len(rotated)),
                rotated_answer,
            ),
        ):
            rows.append(
                {
                    "index": index,
                    "image": image,
                    "question": question,
                    "hint": hint,
                    "A": opts[0],
                    "B": opts[1],
                    "C": opts[2],
                    "answer": truth,
                    "category": category,
                    "l2-category": "perception",
                    "split": "dev",
                }
            )
    target = Path(__file__).with_name("mmbench_like.tsv")
    pd.DataFrame(rows).to_csv(target, sep="\t", index=False)
    print(f"wrote {target} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
