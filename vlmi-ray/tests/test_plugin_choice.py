"""The Ray executor loads, on every replica, the provider the driver chose (no cluster needed)."""

from __future__ import annotations

import vlmi
from vlmi.plugin import describe_model
from vlmi_ray.pool import load_options_of


def test_the_ray_executor_keeps_the_chosen_plugin():
    described = describe_model("parrot-1b", plugin="vlmi-mimic")
    assert described.spec.plugin.distribution == "vlmi-mimic"
    assert describe_model("parrot-1b").spec.plugin.distribution == "vlmi-parrot"
    options = load_options_of(vlmi.load("parrot-1b", plugin="vlmi-mimic"))
    assert options["plugin"] == "vlmi-mimic"
    assert vlmi.load("parrot-1b", **options).eval("hi") == "mimic: hi"
