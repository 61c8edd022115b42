"""Test sessions for the vlmi monorepo (uv backend, one fresh environment per session).

- ``core``: vlmi-core plus the test-only plugins in tests/plugins; runs
  vlmi-core/tests and the cross-distribution tests in tests/.
- ``plugin-<dist>``: vlmi-core plus that one distribution (found by globbing
  vlmi-*/pyproject.toml, so a new family needs no edit here); runs its tests.
- ``transformers_oldest``: vlmi-transformers' tests against the oldest
  Transformers its pyproject.toml accepts.
- ``lint``: ruff over the whole tree, mypy over every src/ folder.

`nox` runs them all; CI runs exactly that.
"""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = "3.11"
PLUGIN_DISTS = sorted(
    p.parent.name for p in ROOT.glob("vlmi-*/pyproject.toml") if p.parent.name != "vlmi-core"
)
TEST_PLUGINS = ["tests/plugins/vlmi-echo", "tests/plugins/vlmi-broken"]
#: Extra requirements per plugin session. torch 2.13.0 with torchvision 0.28.0 is the registry
#: pair that loads together (both CUDA builds; they run on a CPU too).
SESSION_PINS = {"vlmi-transformers": ["torch==2.13.0", "torchvision==0.28.0"]}
#: Test helpers a plugin's tests borrow from another distribution, installed without their
#: dependencies (the plugin's engine already brings transformers and tokenizers).
BORROWED_HELPERS = {
    "vlmi-minicpmv": ["./vlmi-transformers"],
    "vlmi-internvl2": ["./vlmi-transformers"],
}
#: Plugins whose package has a `testing` extra (test helpers shipped to other plugins).
WITH_TESTING_EXTRA = {"vlmi-transformers"}


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """vlmi-core alone with the test plugins: unit, discovery, CLI, runner, conformance."""
    session.install("uv", "-e", "./vlmi-core[testing]", *(f"-e./{p}" for p in TEST_PLUGINS))
    session.run("pytest", "vlmi-core/tests", "tests", *session.posargs)


@nox.session(name="plugin", python=PYTHON)
@nox.parametrize("dist", PLUGIN_DISTS, ids=PLUGIN_DISTS)
def plugin(session: nox.Session, dist: str) -> None:
    """One family plugin in an environment of its own, next to vlmi-core only."""
    session.install("-e", "./vlmi-core[testing]")
    target = f"./{dist}[testing]" if dist in WITH_TESTING_EXTRA else f"./{dist}"
    session.install("-e", target, *SESSION_PINS.get(dist, []))
    for helper in BORROWED_HELPERS.get(dist, []):
        session.install("--no-deps", "-e", helper)
    session.run("pytest", f"{dist}/tests", *session.posargs)


def lowest_version(dist: str, requirement: str) -> str:
    """The ``>=`` bound that ``dist``'s pyproject.toml sets on ``requirement``."""
    text = (ROOT / dist / "pyproject.toml").read_text()
    found = re.search(rf'^\s*"{re.escape(requirement)}\s*>=\s*([\w.]+)', text, re.MULTILINE)
    if found is None:
        raise ValueError(f"{dist}/pyproject.toml sets no lower bound on {requirement}")
    return found.group(1)


@nox.session(python=PYTHON)
def transformers_oldest(session: nox.Session) -> None:
    """vlmi-transformers against the oldest Transformers it declares support for."""
    oldest = lowest_version("vlmi-transformers", "transformers")
    session.install("-e", "./vlmi-core[testing]")
    session.install(
        "-e",
        "./vlmi-transformers[testing]",
        f"transformers=={oldest}",
        *SESSION_PINS["vlmi-transformers"],
    )
    session.run("pytest", "vlmi-transformers/tests", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) over the tree; mypy over each distribution's src/."""
    session.install("ruff==0.17.6", "mypy==2.4.1", "-e", "./vlmi-core[testing]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    sources = sorted(str(p) for p in [*ROOT.glob("vlmi-*/src"), *ROOT.glob("templates/*/src")])
    session.run("mypy", *sources)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """The runner benchmark (benchmarks/bench_runner.py); not part of the default run."""
    session.install("-e", "./vlmi-core[testing]", "-e", "./tests/plugins/vlmi-echo")
    session.run("python", "benchmarks/bench_runner.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench_transformers(session: nox.Session) -> None:
    """vlmi-transformers throughput (benchmarks/bench_transformers.py); not in the default run."""
    session.install("-e", "./vlmi-core[testing]", "-e", "./vlmi-transformers[testing]")
    session.install(*SESSION_PINS["vlmi-transformers"])
    session.run("python", "benchmarks/bench_transformers.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench_ray(session: nox.Session) -> None:
    """`vlmi run --ray` with 1/2/4 replicas against the local runner (benchmarks/bench_ray.py)."""
    session.install("-e", "./vlmi-core[testing,ray]", "-e", "./tests/plugins/vlmi-echo")
    session.run("python", "benchmarks/bench_ray.py", *session.posargs)
