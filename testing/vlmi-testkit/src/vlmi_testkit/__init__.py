"""vlmi-testkit: the test helpers vlmi's plugins share (nothing here is downloaded).

- :func:`train_tokenizer`: a byte-level BPE tokenizer trained on generated text.
- :func:`make_tiny_checkpoint` / :func:`tiny_checkpoint`: tiny random-weight
  checkpoints of Transformers-native architectures (:data:`TINY_RECIPES`).
- :func:`make_tiny_internvl2`: a tiny InternVL2-shaped checkpoint as LMDeploy
  reads it; :func:`scripted_engine`: a stand-in for LMDeploy's GPU engine.
- :func:`minicpmv_tokenizer`: MiniCPM-V-2.6's tokenizer, trained locally;
  :func:`make_tiny_minicpmv`: a tiny MiniCPM-V-2.6 checkpoint that vLLM's own
  ``MiniCPMV`` architecture loads (config and image-processor code in the folder);
  :func:`make_tiny_minicpmv4_5`: a tiny MiniCPM-V-4.5 (version 4.5, Qwen3 text model,
  Qwen3's chat template with its thinking switch).
- :mod:`vlmi_testkit.weights_check`: whether a real vLLM engine loaded every tensor of its
  checkpoint folder and left none of its parameters as initialised (imported from its module).
- :func:`make_tiny_ovis2_5`: a tiny Ovis2.5 checkpoint that vLLM's own ``Ovis2_5``
  architecture loads (its configuration class in the folder; Qwen3's token ids).
- :func:`make_tiny_kimi_vl`: a tiny Kimi-VL checkpoint (MoonViT, DeepSeek-V3-style text
  model with latent attention and experts) that vLLM's own architecture loads.
- :func:`make_tiny_keye_vl1_5`: a tiny Keye-VL-1.5 checkpoint (Qwen3 text model with
  M-RoPE, SigLIP vision) that vLLM's own architecture loads.
- :mod:`vlmi_testkit.ray_cluster`: a throwaway local Ray cluster on loopback for tests
  of ``vlmi run --ray`` (imported from its module; it needs Ray, not torch).
- :mod:`vlmi_testkit.hub_mirror`: a real Hugging Face mirror (olah, offline, over local git
  repositories) on loopback, and a proxy that drops or stalls a download after N bytes, for
  tests of downloads (imported from its module; it needs olah, not torch).

The recipes need torch, transformers and tokenizers, which each engine's
environment brings; they are imported only when a recipe runs, and their
absence is an ImportError that names what to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vlmi_testkit.scripted_lmdeploy import ScriptedEngine, scripted_engine
    from vlmi_testkit.tiny_internvl2 import make_tiny_internvl2
    from vlmi_testkit.tiny_keye_vl1_5 import keye_vl1_5_tokenizer, make_tiny_keye_vl1_5
    from vlmi_testkit.tiny_kimi_vl import kimi_vl_tokenizer, make_tiny_kimi_vl
    from vlmi_testkit.tiny_minicpmv import make_tiny_minicpmv, minicpmv_tokenizer
    from vlmi_testkit.tiny_minicpmv4_5 import make_tiny_minicpmv4_5, minicpmv4_5_tokenizer
    from vlmi_testkit.tiny_ovis2_5 import make_tiny_ovis2_5, ovis2_5_tokenizer
    from vlmi_testkit.tiny_parts import TinyRecipe
    from vlmi_testkit.tiny_transformers import TINY_RECIPES, make_tiny_checkpoint, tiny_checkpoint
    from vlmi_testkit.tokenizer import train_tokenizer

_WHERE = {
    "ScriptedEngine": "vlmi_testkit.scripted_lmdeploy",
    "scripted_engine": "vlmi_testkit.scripted_lmdeploy",
    "make_tiny_internvl2": "vlmi_testkit.tiny_internvl2",
    "make_tiny_minicpmv": "vlmi_testkit.tiny_minicpmv",
    "minicpmv_tokenizer": "vlmi_testkit.tiny_minicpmv",
    "make_tiny_minicpmv4_5": "vlmi_testkit.tiny_minicpmv4_5",
    "minicpmv4_5_tokenizer": "vlmi_testkit.tiny_minicpmv4_5",
    "make_tiny_ovis2_5": "vlmi_testkit.tiny_ovis2_5",
    "make_tiny_kimi_vl": "vlmi_testkit.tiny_kimi_vl",
    "make_tiny_keye_vl1_5": "vlmi_testkit.tiny_keye_vl1_5",
    "keye_vl1_5_tokenizer": "vlmi_testkit.tiny_keye_vl1_5",
    "kimi_vl_tokenizer": "vlmi_testkit.tiny_kimi_vl",
    "ovis2_5_tokenizer": "vlmi_testkit.tiny_ovis2_5",
    "TinyRecipe": "vlmi_testkit.tiny_parts",
    "TINY_RECIPES": "vlmi_testkit.tiny_transformers",
    "make_tiny_checkpoint": "vlmi_testkit.tiny_transformers",
    "tiny_checkpoint": "vlmi_testkit.tiny_transformers",
    "train_tokenizer": "vlmi_testkit.tokenizer",
}
_NEEDS = ("torch", "transformers", "tokenizers")


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'vlmi_testkit' has no attribute {name!r}")
    missing = [dep for dep in _NEEDS if importlib.util.find_spec(dep) is None]
    if missing:
        raise ImportError(
            f"vlmi_testkit.{name} needs {', '.join(missing)} in this environment; install the "
            "plugin under test with its engine (e.g. pip install vlmi-transformers), which "
            "brings them"
        )
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "TINY_RECIPES",
    "ScriptedEngine",
    "TinyRecipe",
    "keye_vl1_5_tokenizer",
    "kimi_vl_tokenizer",
    "make_tiny_checkpoint",
    "make_tiny_internvl2",
    "make_tiny_keye_vl1_5",
    "make_tiny_kimi_vl",
    "make_tiny_minicpmv",
    "make_tiny_minicpmv4_5",
    "make_tiny_ovis2_5",
    "minicpmv4_5_tokenizer",
    "minicpmv_tokenizer",
    "ovis2_5_tokenizer",
    "scripted_engine",
    "tiny_checkpoint",
    "train_tokenizer",
]
