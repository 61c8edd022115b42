"""Run vlmi's conformance suite against this plugin's model: pytest tests/."""

from __future__ import annotations

import re

from vlmi.testing import ModelConformance


def reported_images(answer: str) -> list[tuple[int, int]]:
    """The image sizes the placeholder model writes into its answer, in order."""
    return [(int(w), int(h)) for w, h in re.findall(r"<image (\d+)x(\d+)>", answer)]


class TestMyFamilyDemo(ModelConformance):
    model_name = "myfamily-demo"
    plugin_module = "vlmi_myfamily"
    image_report = staticmethod(reported_images)  # drop this line once the model is real
