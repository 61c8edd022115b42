"""MiniCPM-V-2.6's configuration: a Qwen2 text model plus a SigLIP vision tower.

The text model's fields sit at the top level (as in the released config.json);
``vision_config`` is a SigLIP vision config object (vLLM builds its vision
tower from it), and the resampler and slicing fields are MiniCPM-V's own.
"""

from __future__ import annotations

from typing import Any

from transformers import Qwen2Config, SiglipVisionConfig


class MiniCPMVConfig(Qwen2Config):  # type: ignore[misc]
    """Qwen2's fields plus MiniCPM-V's: vision tower, resampler queries, slicing."""

    model_type = "minicpmv"
    sub_configs = {"vision_config": SiglipVisionConfig}

    vision_config: dict[str, Any] | SiglipVisionConfig | None = None
    version: float = 2.6
    query_num: int = 64
    image_size: int = 448
    patch_size: int = 14
    max_slice_num: int = 9
    slice_mode: bool = True
    use_image_id: bool = True
    drop_vision_last_layer: bool = False
    batch_vision_input: bool = True

    def __post_init__(self, **kwargs: Any) -> None:
        if isinstance(self.vision_config, dict):
            self.vision_config = SiglipVisionConfig(**self.vision_config)
        elif self.vision_config is None:
            self.vision_config = SiglipVisionConfig(
                image_size=self.image_size, patch_size=self.patch_size
            )
        super().__post_init__(**kwargs)


__all__ = ["MiniCPMVConfig"]
