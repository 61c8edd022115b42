"""vlmi plugin entry point: declares the models. Import nothing heavy here."""

from __future__ import annotations

from collections.abc import Callable

import vlmi


@vlmi.hookimpl
def register_models(register: Callable[[vlmi.ModelSpec], None]) -> None:
    register(
        vlmi.ModelSpec(
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
