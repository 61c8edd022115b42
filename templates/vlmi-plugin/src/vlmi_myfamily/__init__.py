"""vlmi plugin entry point: declares the models. Import nothing heavy here."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="myfamily-demo",
            aliases=("myfamily",),
            factory="vlmi_myfamily.model:MyFamilyModel",  # imported only by vlmi.load
            family="myfamily",
            engine="demo",
            weights={"huggingface": "my-org/MyFamily-Demo"},
            max_images=4,
            description="template model: replace with yours",
        )
    )
