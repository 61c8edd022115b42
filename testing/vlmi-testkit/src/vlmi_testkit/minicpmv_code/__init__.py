"""The code files tiny MiniCPM-V-2.6 and 4.5 checkpoints carry (copied into their folders).

vLLM and Transformers load them with ``trust_remote_code=True`` through the
``auto_map`` entries of config.json and preprocessor_config.json, as they load
the released checkpoint's own files. Written for these tests; they follow the
released model's rules, not its code.
"""

from __future__ import annotations

from pathlib import Path

#: the files, by name, as they are written into a checkpoint folder
CODE_FILES = (
    "configuration_minicpm.py",
    "image_processing_minicpmv.py",
    # MiniCPM-V-4.5's configuration (Qwen3 text fields), written as configuration_minicpm.py
    "configuration_minicpm_v4_5.py",
)


def code_file(name: str) -> Path:
    """The path of one of :data:`CODE_FILES`."""
    if name not in CODE_FILES:
        raise ValueError(f"no MiniCPM-V code file {name!r}; known: {CODE_FILES}")
    return Path(__file__).parent / name


__all__ = ["CODE_FILES", "code_file"]
