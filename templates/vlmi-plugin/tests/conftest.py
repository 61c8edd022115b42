"""vlmi's opt-in pytest plugin: the `gpu` marker, skipped with the reason where CUDA is missing."""

pytest_plugins = ["vlmi.testing.pytest_plugin"]
