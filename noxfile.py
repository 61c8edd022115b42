"""Test sessions for the vlmi monorepo (uv backend, one fresh environment per session).

- ``core``: vlmi-core with its ``test`` dependency group (the test-only plugins in
  tests/plugins among them); runs vlmi-core/tests and the cross-distribution tests in tests/.
- ``plugin-<dist>``: one distribution beside the core (a model family, an engine plugin, or an
  extension such as vlmi-serve and vlmi-ray) with its ``test`` dependency group, in an
  environment of its own (found by globbing vlmi-*/pyproject.toml, so a new one needs no
  edit here).
  A plugin whose engine CI installs another way (e.g. a CPU build of an engine in place of
  the CUDA build the plugin depends on) writes the pip commands of its install page in
  ``[tool.vlmi] engine-install`` of its pyproject.toml; the session runs exactly those with
  pip (which reads the machine's pip configuration), then adds the ``test`` group. With
  ``engine-installer = "uv"`` they run as ``uv pip`` commands instead, and the requirements
  in ``engine-overrides`` are passed to every install as uv's ``--override`` file (e.g. to
  keep a registry build of torch that an engine's CPU wheel would replace).
- ``transformers_oldest``: vlmi-transformers' tests of the model path (its ``test-model``
  dependency group) against the oldest Transformers its pyproject.toml accepts.
- ``lint``: ruff over the whole tree, mypy over every src/ folder.
- ``docs``: the documentation site, built from docs/ by Sphinx into docs/_build/html (any
  warning, broken link or missing reference fails it), then every example of its pages run
  by Sybil (docs/conftest.py); its tools are the root pyproject.toml's ``docs`` group.
- ``lmms_eval``: lmms-eval from the registry evaluating a task through ``vlmi serve``, as
  docs/lmms-eval.md shows (vlmi-serve's ``lmms-eval`` dependency group).
- ``quick`` (not in the default run): ``core`` without its ``slow`` tests, then ``lint``.

What a distribution's tests need is declared where packaging tools read it: the
``[dependency-groups] test`` table (PEP 735) of its pyproject.toml. A name there that is a
distribution of this repository (vlmi-core, vlmi-testkit, vlmi-echo, ...) is installed from
its folder, editable; any other requirement as written.

`nox` runs them all but ``quick`` and the benchmarks; CI runs exactly that.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import nox
import tomllib

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = "3.11"
PLUGIN_DISTS = sorted(
    p.parent.name for p in ROOT.glob("vlmi-*/pyproject.toml") if p.parent.name != "vlmi-core"
)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def _pyproject(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))


def local_distributions() -> dict[str, Path]:
    """Distribution name -> folder, for every distribution in this repository."""
    patterns = ["vlmi-*", "testing/*", "tests/plugins/*", "templates/*"]
    found = {}
    for pattern in patterns:
        for pyproject in ROOT.glob(f"{pattern}/pyproject.toml"):
            found[_pyproject(pyproject.parent)["project"]["name"]] = pyproject.parent
    return found


def test_requirements(dist: str, group: str = "test") -> list[str]:
    """``dist``'s dependency group as install arguments; this repo's distributions editable."""
    groups = _pyproject(ROOT / dist).get("dependency-groups", {})
    local = local_distributions()
    arguments: list[str] = []
    for entry in groups.get(group, []):
        if isinstance(entry, dict):  # {include-group = "..."}
            arguments += test_requirements(dist, entry["include-group"])
            continue
        match = _NAME.match(entry)
        name = match.group(1) if match else ""
        if name in local and not (match and match.group(3)):
            extras = match.group(2) or "" if match else ""
            arguments += ["-e", f"./{local[name].relative_to(ROOT)}{extras}"]
        else:
            arguments.append(entry)
    return arguments


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """vlmi-core alone with the test plugins: unit, discovery, CLI, runner, conformance."""
    session.install("-e", "./vlmi-core", *test_requirements("vlmi-core"))
    session.run("pytest", "vlmi-core/tests", "tests", *session.posargs)


@nox.session(python=PYTHON, default=False)
def quick(session: nox.Session) -> None:
    """The inner loop: ``core`` without its ``slow`` tests, then ``lint``; no engine starts.

    The ``slow`` tests (the fresh uv environments of tests/test_isolated_env.py,
    test_compare.py and test_readme_plugin.py; the 100k-sample run) stay in ``core``.
    """
    session.notify("lint")  # queued first: lint runs even when a test fails
    session.install("-e", "./vlmi-core", *test_requirements("vlmi-core"))
    session.run("pytest", "vlmi-core/tests", "tests", "-m", "not slow", *session.posargs)


def engine_install(dist: str) -> list[list[str]] | None:
    """``dist``'s ``[tool.vlmi] engine-install`` pip commands, this repo's names as folders."""
    steps = _pyproject(ROOT / dist).get("tool", {}).get("vlmi", {}).get("engine-install")
    if steps is None:
        return None
    local = local_distributions()
    commands = []
    for step in steps:
        arguments: list[str] = []
        for word in shlex.split(step):
            if word in local:  # a distribution of this repo: from its folder, editable
                arguments += ["-e", f"./{local[word].relative_to(ROOT)}"]
            else:
                arguments.append(word)
        commands.append(arguments)
    return commands


def engine_overrides(session: nox.Session, dist: str) -> list[str]:
    """``dist``'s ``[tool.vlmi] engine-overrides`` as uv arguments (``--override <file>``)."""
    pins = _pyproject(ROOT / dist).get("tool", {}).get("vlmi", {}).get("engine-overrides", [])
    if not pins:
        return []
    path = Path(session.create_tmp()) / "engine-overrides.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return ["--override", str(path)]


@nox.session(name="plugin", python=PYTHON)
@nox.parametrize("dist", PLUGIN_DISTS, ids=PLUGIN_DISTS)
def plugin(session: nox.Session, dist: str) -> None:
    """One plugin or extension in an environment of its own, next to vlmi-core only."""
    commands = engine_install(dist)
    installer = _pyproject(ROOT / dist).get("tool", {}).get("vlmi", {}).get("engine-installer")
    if commands is None:
        session.install("-e", f"./{dist}", *test_requirements(dist))
    elif installer == "uv":
        overrides = engine_overrides(session, dist)
        for arguments in [*commands, ["install", *test_requirements(dist)]]:
            extra = overrides if arguments[0] == "install" else []
            session.run("uv", "pip", *arguments, *extra, external=True)
    else:
        session.install("pip")
        for arguments in commands:
            session.run("python", "-m", "pip", *arguments)
        session.run("python", "-m", "pip", "install", *test_requirements(dist))
    session.run("pytest", f"{dist}/tests", *session.posargs)


#: vlmi-transformers test files that transformers_oldest leaves to the plugin session: vlmi's
#: plumbing around the same model calls (Ray, serving, downloads, the command line in a
#: subprocess), which the rest of the suite checks on this Transformers in-process, and the
#: benchmark's workload (the benchmark runs on the newest Transformers)
AROUND_THE_ENGINE = (
    "test_ray.py",
    "test_serving.py",
    "test_download.py",
    "test_cli.py",
    "test_benchmark_workload.py",
)
#: the conformance kit's checks of vlmi's own code (image decoding, typed input errors, option
#: checks, listing, error mapping on a replaced engine call): the same on every Transformers, so
#: transformers_oldest runs them on one architecture (the curated-name class) only; the kit's
#: engine calls (text, one, several and image-only samples, order, options, token limits) run
#: there on every architecture
VLMI_SIDE_OF_THE_KIT = (
    "image_input_kind",
    "nothing_to_ask",
    "bad_images_get_typed_errors",
    "too_many_images_fails_before_the_engine",
    "empty_batch",
    "unknown_generation_option_is_rejected",
    "unknown_load_option_is_rejected",
    "engine_errors_are_mapped",
    "preferred_batch_size_is_known_without_an_engine",
    "listed_and_light",
)


def lowest_version(dist: str, requirement: str) -> str:
    """The ``>=`` bound that ``dist``'s pyproject.toml sets on ``requirement``."""
    for entry in _pyproject(ROOT / dist)["project"]["dependencies"]:
        found = re.match(rf"^\s*{re.escape(requirement)}\s*>=\s*([\w.]+)", entry)
        if found:
            return found.group(1)
    raise ValueError(f"{dist}/pyproject.toml sets no lower bound on {requirement}")


@nox.session(python=PYTHON)
def transformers_oldest(session: nox.Session) -> None:
    """vlmi-transformers against the oldest Transformers it declares support for."""
    oldest = lowest_version("vlmi-transformers", "transformers")
    session.install(
        "-e",
        "./vlmi-transformers",
        *test_requirements("vlmi-transformers", "test-model"),
        f"transformers=={oldest}",
    )
    around = [f"--ignore=vlmi-transformers/tests/{name}" for name in AROUND_THE_ENGINE]
    # a -k among the posargs replaces this one
    vlmi_side = f"not (TestTiny_ and ({' or '.join(VLMI_SIDE_OF_THE_KIT)}))"
    session.run("pytest", "vlmi-transformers/tests", *around, "-k", vlmi_side, *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) over the tree; mypy over each distribution's src/."""
    # FastAPI, matplotlib and the openai client, so that vlmi-serve, vlmi compare's picture
    # and vlmi-openai are type-checked against them (Ray is left out: it is large, and mypy
    # skips what is not installed)
    session.install(
        "ruff==0.17.6",
        "mypy==2.4.1",
        "-e",
        "./vlmi-core[testing,plot]",
        "-e",
        "./vlmi-serve",
        "openai>=1.50",
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    sources = sorted(
        str(p)
        for pattern in ("vlmi-*/src", "templates/*/src", "testing/*/src")
        for p in ROOT.glob(pattern)
    )
    session.run("mypy", *sources)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, warnings as errors; then every runnable example of its pages."""
    session.install(*test_requirements(".", "docs"))
    build = ["-E", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html"]
    session.run("sphinx-build", *build)
    session.run("pytest", "docs", *session.posargs)


@nox.session(python=PYTHON)
def lmms_eval(session: nox.Session) -> None:
    """lmms-eval (with torch, from the registry) asking `vlmi serve echo`, as the docs show."""
    session.install("-e", "./vlmi-serve", *test_requirements("vlmi-serve", "lmms-eval"))
    session.run("pytest", "vlmi-serve/tests/test_lmms_eval.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """The runner benchmark (benchmarks/bench_runner.py); not part of the default run."""
    session.install("-e", "./vlmi-core", *test_requirements("vlmi-core"))
    session.run("python", "benchmarks/bench_runner.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench_transformers(session: nox.Session) -> None:
    """vlmi-transformers throughput (benchmarks/bench_transformers.py); not in the default run."""
    session.install("-e", "./vlmi-transformers", *test_requirements("vlmi-transformers"))
    session.run("python", "benchmarks/bench_transformers.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench_ray(session: nox.Session) -> None:
    """`vlmi run --ray` with 1/2/4 replicas against the local runner (benchmarks/bench_ray.py)."""
    session.install(
        "-e",
        "./vlmi-core[testing]",
        "-e",
        "./vlmi-ray",
        "-e",
        "./tests/plugins/vlmi-echo",
        "-e",
        "./testing/vlmi-testkit",
    )
    session.run("python", "benchmarks/bench_ray.py", *session.posargs)
