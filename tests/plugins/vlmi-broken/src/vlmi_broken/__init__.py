"""Test-only plugin that fails on import, like a plugin whose engine is missing."""

raise ImportError("vlmi_broken needs an engine that is not installed (pip install not-an-engine)")
