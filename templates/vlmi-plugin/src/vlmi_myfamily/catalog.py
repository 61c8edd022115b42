"""The models this plugin serves, as data: names, weights ids, limits."""

from __future__ import annotations

from vlmi.plugin import ModelSpec

CURATED = (
    ModelSpec(
        name="myfamily-demo",
        aliases=("myfamily",),
        factory="vlmi_myfamily.model:MyFamilyModel",  # imported only by vlmi.load
        family="myfamily",
        engine="demo",
        weights={"huggingface": "my-org/MyFamily-Demo"},
        max_images=4,
        description="template model: replace with yours",
    ),
)

__all__ = ["CURATED"]
