pytest_plugins = ["vlmi.testing.pytest_plugin"]
