"""Record the prompts LMDeploy builds for InternVL2: the reference vlmi-vllm's test compares with.

Run in vlmi-internvl2's environment (LMDeploy 0.18; its InternVL preprocessing,
chat template and tokenisation run on a CPU; only the GPU engine is replaced by
vlmi-testkit's ``scripted_engine``, which records each request's input ids)::

    PYTHONPATH=vlmi-core/src:vlmi-internvl2/src:testing/vlmi-testkit/src \\
      .nox/plugin-vlmi-internvl2/bin/python scripts/record_lmdeploy_internvl2_prompts.py

It builds the tiny InternLM2-backbone InternVLChatModel checkpoint of
vlmi-testkit (``make_tiny_internvl2(backbone="internlm2", variant="vllm")``:
InternVL2-8B's shape), loads it as ``internvl2-8b`` through vlmi-internvl2
(InternVL2's ``chat()`` layout: its system message, ``Image-i:`` labels) with
LMDeploy's PyTorch-engine path, and writes, for each sample in
:data:`SAMPLES` (pictures made by ``vlmi.testing.inputs.make_picture``), the
token ids LMDeploy sends to its engine, to
``vlmi-vllm/tests/data/lmdeploy_internvl2_prompts.json`` (vlmi-vllm's
``tests/test_internvl_chat.py`` compares vLLM's prompts with it), with the
tokenizer's fingerprint (the ids hold only for the same tokenizer).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).parents[1] / "vlmi-vllm" / "tests" / "data" / "lmdeploy_internvl2_prompts.json"
#: the pictures (width, height, seed): square, wide, tall (different tile grids)
PICTURES = [(200, 200, 0), (300, 170, 1), (33, 90, 2)]
#: text only, one image, two images, interleaved (images given by their index in PICTURES)
SAMPLES: list[dict[str, Any]] = [
    {"messages": [{"type": "text", "value": "What is two plus two?"}]},
    {
        "messages": [
            {"type": "image", "value": 1},
            {"type": "text", "value": "Describe the picture."},
        ]
    },
    {
        "messages": [
            {"type": "image", "value": 0},
            {"type": "image", "value": 2},
            {"type": "text", "value": "Compare these."},
        ]
    },
    {
        "messages": [
            {"type": "text", "value": "First:"},
            {"type": "image", "value": 2},
            {"type": "text", "value": "then:"},
            {"type": "image", "value": 0},
            {"type": "text", "value": "which is wider?"},
        ]
    },
]
#: tiles per image for both engines (LMDeploy's and vLLM's max_dynamic_patch)
MAX_DYNAMIC_PATCH = 2
CHECKPOINT = {"backbone": "internlm2", "variant": "vllm", "seed": 0}


def tokenizer_fingerprint(folder: Path) -> str:
    """sha256 of the folder's tokenizer.json: the recorded ids hold for this tokenizer only."""
    return hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest()


def with_paths(sample: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A sample of :data:`SAMPLES` with its image indexes replaced by picture paths."""
    return {
        "messages": [
            {**part, "value": paths[part["value"]]} if part["type"] == "image" else part
            for part in sample["messages"]
        ]
    }


def readable(text: str) -> str:
    """The decoded prompt with each run of image-context tokens written once, with its count."""
    return re.sub(
        r"(?:<IMG_CONTEXT>)+", lambda run: f"<IMG_CONTEXT>x{run[0].count('<IMG_CONTEXT>')}", text
    )


def main() -> None:
    import lmdeploy

    import vlmi
    import vlmi_internvl2.model as model_module
    from vlmi.testing.inputs import make_picture
    from vlmi_testkit import make_tiny_internvl2, scripted_engine

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_tiny_internvl2(Path(tmp) / "tiny", **CHECKPOINT)  # type: ignore[arg-type]
        paths = []
        for width, height, seed in PICTURES:
            paths.append(str(Path(tmp) / f"picture{seed}.png"))
            make_picture(width, height, seed=seed).save(paths[-1])
        model_module._require_cuda = lambda: None  # the scripted engine needs no GPU
        with scripted_engine() as engines:
            model = vlmi.load(
                "internvl2-8b",
                plugin="vlmi-internvl2",
                model_path=str(folder),
                backend="pytorch",
                max_dynamic_patch=MAX_DYNAMIC_PATCH,
            )
            answers = []  # one at a time: the engine's requests in the samples' order
            for sample in SAMPLES:
                answers += model.eval_batch([with_paths(sample, paths)], max_new_tokens=1)
            model.close()
        errors = [a for a in answers if isinstance(a, BaseException)]
        if errors:
            sys.exit(f"LMDeploy refused a sample: {errors[0]!r}")
        requests = engines[0].requests
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
        record = {
            "made_by": f"scripts/{Path(__file__).name}",
            "lmdeploy": lmdeploy.__version__,
            "checkpoint": CHECKPOINT,
            "tokenizer_sha256": tokenizer_fingerprint(folder),
            "max_dynamic_patch": MAX_DYNAMIC_PATCH,
            "pictures": PICTURES,
            "samples": SAMPLES,
            "prompt_token_ids": [list(map(int, r.input_ids)) for r in requests],
            "prompts": [readable(tokenizer.decode(r.input_ids)) for r in requests],
        }
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
    OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {OUT}: {[len(ids) for ids in record['prompt_token_ids']]} tokens")


if __name__ == "__main__":
    main()
