"""MiniCPM-V-4.5's configuration: a Qwen3 text model plus a SigLIP vision tower.

Written into a checkpoint folder as ``configuration_minicpm.py``, the released
file's name. As in the released config.json, the text model's fields
(Qwen3's, ``head_dim`` included) sit at the top level, ``vision_config`` is a
SigLIP vision config object, and the resampler and slicing fields are
MiniCPM-V's own; ``version`` 4.5 makes vLLM build ``MiniCPMV4_5``.
"""

from __future__ import annotations

from typing import Any

from transformers import Qwen3Config, SiglipVisionConfig


class MiniCPMVConfig(Qwen3Config):  # type: ignore[misc]
    """Qwen3's fields plus MiniCPM-V's: vision tower, resampler queries, slicing."""

    model_type = "minicpmv"
    sub_configs = {"vision_config": SiglipVisionConfig}

    vision_config: dict[str, Any] | SiglipVisionConfig | None = None
    version: float = 4.5
    query_num: int = 64
    image_size: int = 448
    patch_size: int = 14
    max_slice_num: int = 9
    slice_config: dict[str, Any] | None = None
    slice_mode: bool = True
    use_image_id: bool = True
    drop_vision_last_layer: bool = False
    batch_vision_input: bool = True
    vision_batch_size: int = 16

    def __post_init__(self, **kwargs: Any) -> None:
        if isinstance(self.vision_config, dict):
            self.vision_config = SiglipVisionConfig(**self.vision_config)
        elif self.vision_config is None:
            self.vision_config = SiglipVisionConfig(
                image_size=self.image_size, patch_size=self.patch_size
            )
        super().__post_init__(**kwargs)


__all__ = ["MiniCPMVConfig"]
