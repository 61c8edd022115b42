"""Free-form (VQA) answer scoring as VLMEvalKit's ``vqa_eval`` does it, method by dataset.

Methods (``VQA_METHODS``), chosen from the dataset name as VLMEvalKit chooses them:

- ``vqa_score`` (TextVQA, and VLMEvalKit's default): the answer normalised
  (punctuation, number words, articles, contractions); for each reference,
  min(1, matches among the *other* references / 3); the row scores the mean.
  With a single reference every row scores 0, as in VLMEvalKit.
- ``anls`` (DocVQA, InfoVQA): 1 - normalised Levenshtein distance to the
  closest reference, 0 below 0.5.
- ``relaxed_accuracy`` (ChartQA): numbers within 5 %, text equal ignoring
  case; any reference.
- ``accuracy`` (OCRVQA, GQA): equal ignoring case and outer spaces; mean over
  references (OCRVQA: any reference).
- ``exact_match`` (vlmi's choice for custom files, which VLMEvalKit cannot
  score): the normalised answer equals a normalised reference.
"""

from __future__ import annotations

import ast
import re

VQA_METHODS = ("vqa_score", "anls", "relaxed_accuracy", "accuracy", "exact_match")
_PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<"]
_PUNCTUATION += ["@", "`", ",", "?", "!"]
_COMMA_IN_NUMBER = re.compile(r"(\d)(,)(\d)")
_PERIOD = re.compile(r"(?<!\d)\.(?!\d)")
_NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4"}
_NUMBER_WORDS |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = {"a", "an", "the"}
#: Contractions written without apostrophes, and their spelling (the VQA evaluation's table).
_CONTRACTION_TABLE = (
    "aint=ain't arent=aren't cant=can't couldve=could've couldnt=couldn't "
    "couldn'tve=couldn't've couldnt've=couldn't've didnt=didn't doesnt=doesn't dont=don't "
    "hadnt=hadn't hadnt've=hadn't've hadn'tve=hadn't've hasnt=hasn't havent=haven't hed=he'd "
    "hed've=he'd've he'dve=he'd've hes=he's howd=how'd howll=how'll hows=how's Id've=I'd've "
    "I'dve=I'd've Im=I'm Ive=I've isnt=isn't itd=it'd itd've=it'd've it'dve=it'd've "
    "itll=it'll let's=let's maam=ma'am mightnt=mightn't mightnt've=mightn't've "
    "mightn'tve=mightn't've mightve=might've mustnt=mustn't mustve=must've neednt=needn't "
    "notve=not've oclock=o'clock oughtnt=oughtn't ow's'at='ow's'at 'ows'at='ow's'at "
    "'ow'sat='ow's'at shant=shan't shed've=she'd've she'dve=she'd've she's=she's "
    "shouldve=should've shouldnt=shouldn't shouldnt've=shouldn't've shouldn'tve=shouldn't've "
    "somebody'd=somebodyd somebodyd've=somebody'd've somebody'dve=somebody'd've "
    "somebodyll=somebody'll somebodys=somebody's someoned=someone'd someoned've=someone'd've "
    "someone'dve=someone'd've someonell=someone'll someones=someone's somethingd=something'd "
    "somethingd've=something'd've something'dve=something'd've somethingll=something'll "
    "thats=that's thered=there'd thered've=there'd've there'dve=there'd've therere=there're "
    "theres=there's theyd=they'd theyd've=they'd've they'dve=they'd've theyll=they'll "
    "theyre=they're theyve=they've twas='twas wasnt=wasn't wed've=we'd've we'dve=we'd've "
    "weve=we've werent=weren't whatll=what'll whatre=what're whats=what's whatve=what've "
    "whens=when's whered=where'd wheres=where's whereve=where've whod=who'd whod've=who'd've "
    "who'dve=who'd've wholl=who'll whos=who's whove=who've whyll=why'll whyre=why're "
    "whys=why's wont=won't wouldve=would've wouldnt=wouldn't wouldnt've=wouldn't've "
    "wouldn'tve=wouldn't've yall=y'all yall'll=y'all'll y'allll=y'all'll yall'd've=y'all'd've "
    "y'alld've=y'all'd've y'all'dve=y'all'd've youd=you'd youd've=you'd've you'dve=you'd've "
    "youll=you'll youre=you're youve=you've"
)
_CONTRACTIONS = dict(pair.split("=", 1) for pair in _CONTRACTION_TABLE.split())


def process_punctuation(text: str) -> str:
    """Drop or space out punctuation as VLMEvalKit does (quirks kept)."""
    out = text
    commas = _COMMA_IN_NUMBER.search(text) is not None
    for mark in _PUNCTUATION:
        spaced = (mark + " ") in text or (" " + mark) in text
        out = out.replace(mark, "" if spaced or commas else " ")
    return _PERIOD.sub("", out, 32)  # VLMEvalKit passes re.UNICODE (32) as the count


def normalise(answer: str) -> str:
    """VQA normalisation: whitespace, punctuation, number words, articles, contractions."""
    answer = process_punctuation(answer.replace("\n", " ").replace("\t", " ").strip())
    words = [_NUMBER_WORDS.get(w, w) for w in answer.lower().split()]
    return " ".join(_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES)


def references(answer: str) -> list[str]:
    """The accepted answers of a cell: a Python list repr, or the cell itself."""
    try:
        value = ast.literal_eval(answer)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return [answer]
    return [str(v) for v in value] if isinstance(value, list) else [answer]


def method_for(dataset_name: str, official: bool) -> str:
    """The method VLMEvalKit uses for ``dataset_name`` (``exact_match`` for custom files)."""
    rules: tuple[tuple[str, str], ...] = (
        ("TextVQA", "vqa_score"),
        ("ChartQA", "relaxed_accuracy"),
        ("OCRVQA", "accuracy"),
    )
    rules += (("GQA", "accuracy"), ("DocVQA", "anls"), ("InfoVQA", "anls"))
    for fragment, method in rules:
        if fragment in dataset_name:
            return method
    return "vqa_score" if official else "exact_match"


def row_score(answer: str, prediction: str, method: str, dataset_name: str) -> float:
    """One row's score in [0, 1]."""
    refs = references(answer)
    if method == "vqa_score":
        pred = normalise(prediction)
        gts = [normalise(r) for r in refs]
        matches = [
            min(1.0, sum(g == pred for j, g in enumerate(gts) if j != i) / 3)
            for i in range(len(gts))
        ]
        return _combine(matches, dataset_name)
    if method == "anls":
        distance = min(_anls_distance(r, prediction) for r in refs)
        return 0.0 if 1 - distance < 0.5 else 1 - distance
    if method == "relaxed_accuracy":
        return _combine([float(_relaxed(r, prediction.strip())) for r in refs], dataset_name)
    if method == "accuracy":
        pred = prediction.strip().lower()
        return _combine([float(r.strip().lower() == pred) for r in refs], dataset_name)
    pred = normalise(prediction)
    return max(float(normalise(r) == pred) for r in refs)


def _combine(matches: list[float], dataset_name: str) -> float:
    if any(f in dataset_name for f in ("ChartQA", "OCRVQA")):
        return max(matches)
    return sum(matches) / len(matches)


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return None


def _relaxed(target: str, prediction: str) -> bool:
    pred, gold = _number(prediction), _number(target)
    if pred is not None and gold:
        return abs(pred - gold) / abs(gold) <= 0.05
    return prediction.lower() == target.lower()


def _levenshtein(a: str, b: str) -> int:
    if len(a) > len(b):
        a, b = b, a
    row = list(range(len(a) + 1))
    for j, cb in enumerate(b, start=1):
        new = [j]
        for i, ca in enumerate(a, start=1):
            new.append(row[i - 1] if ca == cb else 1 + min(row[i - 1], row[i], new[-1]))
        row = new
    return row[-1]


def _anls_distance(reference: str, prediction: str) -> float:
    gold = " ".join(reference.strip().lower().split())
    pred = " ".join(prediction.strip().lower().split())
    length = max(len(reference.upper()), len(prediction.upper()))
    return 0.0 if length == 0 else _levenshtein(gold, pred) / length


__all__ = [
    "VQA_METHODS",
    "method_for",
    "normalise",
    "process_punctuation",
    "references",
    "row_score",
]
