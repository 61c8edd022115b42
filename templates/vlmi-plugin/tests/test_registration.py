"""The plugin registers its models through the entry point, and imports nothing heavy."""

from __future__ import annotations

import vlmi
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import


def test_the_models_are_listed() -> None:
    listed = {m.name: m for m in vlmi.list_models()}
    assert listed["myfamily-demo"].distribution == "vlmi-myfamily"
    assert find_spec("myfamily").name == "myfamily-demo"


def test_importing_the_plugin_is_light() -> None:
    assert heavy_modules_after_import("vlmi_myfamily") == []
