"""Test helpers for InternVL2 on LMDeploy: a tiny local checkpoint and a stand-in GPU engine.

``make_tiny_internvl2`` needs ``vlmi_transformers.testing`` (its tokenizer
trainer); ``scripted_engine`` needs lmdeploy.
"""

from __future__ import annotations

from vlmi_internvl2.testing.engine import ScriptedEngine, scripted_engine
from vlmi_internvl2.testing.tiny import make_tiny_internvl2

__all__ = ["ScriptedEngine", "make_tiny_internvl2", "scripted_engine"]
