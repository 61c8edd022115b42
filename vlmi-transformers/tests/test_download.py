"""`vlmi download` and hub downloads against a real Hugging Face mirror (olah) on loopback.

olah runs offline over local git repositories holding a tiny checkpoint
(vlmi-testkit), so every path below goes through huggingface_hub's real
client and a real server: the command, `vlmi.load` of a hub id, offline
loading from the cache, an interrupted download (through a proxy that drops
the connection after N bytes), an architecture nobody serves (only
config.json is requested, per the server's log), and the errors. A test plugin
(an entry point on PYTHONPATH, no install) registers a curated name whose
weights id is a repository of the mirror. ModelScope is tested from a
pre-filled cache, offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import WeightsNotFoundError
from vlmi.plugin import WeightsOptions, find_spec, resolve_weights
from vlmi_testkit import tiny_checkpoint
from vlmi_testkit.hub_mirror import CuttingProxy, OlahMirror, add_repo, fresh_hub_env
from vlmi_testkit.ray_cluster import free_port

REPO = "vlmi-test/tiny-qwen2-vl"
REMOTE_CODE = "vlmi-test/remote-code-vlm"
#: a repository whose weights file spans several of huggingface_hub's 10 MiB read chunks, so
#: that a download cut after 12 MiB has 10 MiB on disk to resume from
LARGE = "vlmi-test/large-weights"
LARGE_SIZE = 12 << 20
CUT = 11 << 20
CHUNK = 10 << 20
NAME = "tiny-mirrored"
QUERY = "What is shown?"
#: files of the repository that no engine reads, which a download must skip
EXTRAS = {"flax_model.msgpack": b"\0" * 4096, "README.md": b"# tiny\n", "media/cat.jpg": b"\xff"}

PLUGIN = f'''
from vlmi.plugin import ModelSpec, hookimpl

@hookimpl
def register_models(register):
    register(ModelSpec(name="{NAME}", factory="vlmi_transformers.model:TransformersModel",
                       family="transformers", engine="transformers",
                       weights={{"huggingface": "{REPO}", "modelscope": "{REPO}"}},
                       description="tiny checkpoint on a test mirror"))
'''

LOAD_AND_ANSWER = """
import json, sys, vlmi
query, picture, answers = sys.argv[1], sys.argv[2], []
for name, options in json.loads(sys.argv[3]):
    with vlmi.load(name, **options) as model:
        answer = model.eval(query, [picture], max_new_tokens=8)
        answers.append({"answer": answer, "folder": str(model.folder)})
print(json.dumps(answers))
"""


#: the `vlmi` command (argv after -c), then the names of the modules it imported
CLI_THEN_MODULES = """
import json, runpy, sys
sys.argv[0] = "vlmi"
try:
    runpy.run_module("vlmi._cli", run_name="__main__")
except SystemExit as exit:
    print(json.dumps(sorted(sys.modules)))
    sys.exit(exit.code)
"""


@pytest.fixture(scope="module")
def source() -> Path:
    return tiny_checkpoint("qwen2_vl")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub")


@pytest.fixture(scope="module")
def mirror(root: Path, source: Path) -> Iterator[OlahMirror]:
    add_repo(root, REPO, {".": source, **EXTRAS})
    remote_config = {"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Config"}}
    add_repo(
        root,
        REMOTE_CODE,
        {
            "config.json": json.dumps(remote_config).encode(),
            "model.safetensors": os.urandom(1 << 20),
        },
    )
    add_repo(
        root,
        LARGE,
        {"config.json": source / "config.json", "model.safetensors": os.urandom(LARGE_SIZE)},
    )
    with OlahMirror(root) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(mirror: OlahMirror) -> Iterator[CuttingProxy]:
    with CuttingProxy(mirror.port) as running:
        yield running


@pytest.fixture(scope="module")
def plugin_path(root: Path) -> str:
    """A folder that, on PYTHONPATH, installs the test plugin (entry point and module)."""
    site = root / "plugin-site"
    info = site / "vlmi_mirrored_test-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: vlmi-mirrored-test\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[vlmi]\nmirrored = vlmi_mirrored_test\n")
    (site / "vlmi_mirrored_test.py").write_text(PLUGIN)
    return str(site)


@pytest.fixture(scope="module")
def expected(source: Path, pictures: list[Path]) -> str:
    with vlmi.load(str(source)) as model:
        return model.eval(QUERY, [str(pictures[0])], max_new_tokens=8)


def env_for(root: Path, endpoint: str, plugin_path: str, **extra: str) -> dict[str, str]:
    env = fresh_hub_env(root, endpoint, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin_path, env.get("PYTHONPATH")]))
    return env


def vlmi_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vlmi._cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def run_loads(
    env: dict[str, str], picture: Path, *loads: tuple[str, dict[str, str]]
) -> subprocess.CompletedProcess[str]:
    """Each (name, options) loaded and asked QUERY about ``picture`` in one new process."""
    return subprocess.run(
        [sys.executable, "-c", LOAD_AND_ANSWER, QUERY, str(picture), json.dumps(loads)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def load_and_answer(
    env: dict[str, str], picture: Path, *loads: tuple[str, dict[str, str]]
) -> list[dict[str, str]]:
    """:func:`run_loads`, which must succeed; the answers and folders."""
    done = run_loads(env, picture, *loads)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def snapshot(env: dict[str, str], repo: str = REPO) -> list[Path]:
    folder = Path(env["HF_HOME"]) / "hub" / f"models--{repo.replace('/', '--')}" / "snapshots"
    return sorted(folder.glob("*")) if folder.exists() else []


def files_in(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and ".cache" not in p.relative_to(folder).parts
    }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def token_ids(source: Path, text: str) -> list[int]:
    from transformers import AutoTokenizer

    return list(AutoTokenizer.from_pretrained(source)(text, add_special_tokens=False)["input_ids"])


def test_download_a_curated_name_then_load_it_with_the_mirror_down(
    root: Path,
    mirror: OlahMirror,
    plugin_path: str,
    source: Path,
    pictures: list[Path],
    expected: str,
) -> None:
    local_dir = root / "local-copy"
    # the mirror's address for this test: stopped once the weights are downloaded
    with CuttingProxy(mirror.port) as server:
        env = env_for(root, server.url, plugin_path)
        done = vlmi_cli(env, "download", NAME)
        assert done.returncode == 0, done.stderr
        into_dir = vlmi_cli(env, "download", NAME, "--local-dir", str(local_dir), "-q")
        assert into_dir.returncode == 0, into_dir.stderr

        (folder,) = snapshot(env)
        needed = files_in(source)
        assert files_in(folder) == needed  # the engine's files, not the repository's extras
        assert files_in(local_dir) == needed
        total = sum((source / f).stat().st_size for f in needed)
        assert f"{NAME}: {len(needed)} files, " in done.stdout and str(folder) in done.stdout
        assert f"{total / 1e6:.1f} MB" in done.stdout or f"{total / 1e3:.1f} kB" in done.stdout
        assert f"in {local_dir}" in into_dir.stdout

        # complete in the cache: the one request that pins the revision, nothing listed
        server.log.clear()
        again = vlmi_cli(env, "download", NAME, "-q")
        assert again.returncode == 0 and str(folder) in again.stdout, again.stderr
        asked = [(r.method, r.path) for r in server.log if REPO in r.path]
        assert asked == [("GET", f"/api/models/{REPO}/revision/main")]

    # the server is gone: the cache answers, with HF_HUB_OFFLINE=1 and without it (the hub
    # id's config.json, which plugins claim it by, included)
    offline = dict(env, HF_HUB_OFFLINE="1")
    again = vlmi_cli(offline, "download", NAME, "-q")
    assert again.returncode == 0 and str(folder) in again.stdout, again.stderr
    loads = (NAME, {}), (REPO, {}), (NAME, {"model_path": str(local_dir)})
    answered = run_loads(env, pictures[0], *loads)
    assert answered.returncode == 0, answered.stderr[-3000:]
    from_cache, hub_id, from_folder = json.loads(answered.stdout.strip().splitlines()[-1])
    assert Path(from_cache["folder"]) == Path(hub_id["folder"]) == folder
    assert from_cache["answer"] == hub_id["answer"] == from_folder["answer"] == expected
    assert token_ids(source, from_cache["answer"]) == token_ids(source, expected)
    assert f"cannot reach {server.url} (ConnectError): using the cached copy of {REPO!r}" in (
        answered.stderr
    )


def test_load_a_hub_id_through_the_mirror(
    root: Path, mirror: OlahMirror, plugin_path: str, pictures: list[Path], expected: str
) -> None:
    env = env_for(root, mirror.url, plugin_path)
    (answered,) = load_and_answer(env, pictures[0], (REPO, {}))
    assert answered["answer"] == expected
    (folder,) = snapshot(env)
    assert Path(answered["folder"]) == folder
    assert not files_in(folder) & set(EXTRAS)


def test_check_lists_the_files_and_downloads_nothing(
    root: Path, mirror: OlahMirror, plugin_path: str, source: Path
) -> None:
    env = env_for(root, mirror.url, plugin_path)
    done = subprocess.run(
        [sys.executable, "-c", CLI_THEN_MODULES, "download", NAME, "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    *_, modules = done.stdout.splitlines()
    imported = set(json.loads(modules))
    assert "vlmi_mirrored_test" in imported  # the spec came from the plugin that provides it
    assert not imported & {"torch", "transformers", "vlmi_transformers.model"}  # no engine
    for name in files_in(source):
        assert name in done.stdout
    assert "flax_model.msgpack" not in done.stdout and "nothing downloaded" in done.stdout
    assert f"{len(files_in(source))} files" in done.stdout
    assert snapshot(env) == []


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_download_reruns_cleanly(
    root: Path, proxy: CuttingProxy, plugin_path: str
) -> None:
    weights = root / "mirrors" / "models" / LARGE / "model.safetensors"
    env = env_for(root, proxy.url, plugin_path)

    # the weights stop coming after CUT bytes; then the user presses Ctrl-C
    proxy.stall("/model.safetensors", after=CUT)
    command = [sys.executable, "-m", "vlmi._cli", "download", LARGE, "-q"]
    # Ctrl-C as at a terminal, also where this test runs in a background job (whose
    # children inherit SIGINT ignored, and Python then never raises KeyboardInterrupt)
    running = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
    )
    try:
        assert proxy.stalled.wait(timeout=120)
        running.send_signal(signal.SIGINT)
        _, stderr = running.communicate(timeout=60)
    finally:
        proxy.release()
        running.kill()
    assert running.returncode == 130 and "interrupted; 1 partial file(s) removed" in stderr
    (folder,) = snapshot(env, LARGE)
    assert files_in(folder) == {"config.json"}  # nothing half-written looks complete
    assert not list((folder.parent.parent / "blobs").glob("*.incomplete"))
    offline = vlmi_cli(dict(env, HF_HUB_OFFLINE="1"), "download", LARGE)
    assert offline.returncode == 1 and "incomplete (an interrupted download)" in offline.stderr

    # the rerun fetches what is missing, whole; the file already complete is not fetched again
    proxy.cut("", after=0, times=0)
    rerun = vlmi_cli(env, "download", LARGE, "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert digest(folder / "model.safetensors") == digest(weights)
    gets = [
        r.path.rsplit("/", 1)[-1] for r in proxy.log if r.method == "GET" and "/resolve/" in r.path
    ]
    # the architecture check's config.json comes from the cache too: only the weights travel
    assert gets == ["model.safetensors"]
    sent = [
        r.sent for r in proxy.log if r.method == "GET" and r.path.endswith("/model.safetensors")
    ]
    assert sent == [LARGE_SIZE]


def test_a_dropped_connection_resumes_within_the_run(
    root: Path, proxy: CuttingProxy, plugin_path: str
) -> None:
    weights = root / "mirrors" / "models" / LARGE / "model.safetensors"
    for honour_range in (False, True):
        env = env_for(root, proxy.url, plugin_path)
        proxy.cut("/model.safetensors", after=CUT, times=1, honour_range=honour_range)
        done = vlmi_cli(env, "download", LARGE, "-q")
        assert done.returncode == 0, done.stderr
        (folder,) = snapshot(env, LARGE)
        assert digest(folder / "model.safetensors") == digest(weights)  # never a second copy
        gets = [r for r in proxy.log if r.path.endswith("/model.safetensors") and r.method == "GET"]
        assert [(r.range, r.cut) for r in gets] == [(None, True), (f"bytes={CHUNK}-", False)]
        if honour_range:  # the server sent the rest only
            assert gets[1].status == 206 and gets[1].sent == LARGE_SIZE - CHUNK
        else:  # olah sent the whole file again, and the client wrote it from the start
            assert gets[1].status == 200 and gets[1].sent == LARGE_SIZE


def test_an_architecture_nobody_serves_costs_its_config_only(
    root: Path, mirror: OlahMirror, plugin_path: str
) -> None:
    env = env_for(root, mirror.url, plugin_path)
    before = len(mirror.requests())
    done = vlmi_cli(env, "download", REMOTE_CODE)
    assert done.returncode == 1
    assert "no installed plugin serves" in done.stderr and "'internvl_chat'" in done.stderr
    asked = {path for _, path, _ in mirror.requests()[before:]}
    assert asked == {f"/{REMOTE_CODE}/resolve/main/config.json"}
    (folder,) = snapshot(env, REMOTE_CODE)  # the hub cache, where a download would find it
    assert files_in(folder) == {"config.json"}


def test_missing_repo_revision_endpoint_and_unwritable_target(
    root: Path, mirror: OlahMirror, plugin_path: str
) -> None:
    env = env_for(root, mirror.url, plugin_path)
    cases = {
        ("vlmi-test/no-such-model",): "no repository 'vlmi-test/no-such-model'",
        (NAME, "--revision", "v9"): f"{REPO!r} on {mirror.url} has no revision 'v9'",
        (NAME, "--local-dir", str(root / "olah.toml" / "x")): "cannot write the weights to",
    }
    for args, message in cases.items():
        done = vlmi_cli(env, "download", *args)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
    blocked_cache = dict(env, HF_HOME=str(root / "olah.toml" / "hf-home"))
    blocked = vlmi_cli(blocked_cache, "download", NAME)
    assert blocked.returncode == 1 and "cannot write the weights to" in blocked.stderr
    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = vlmi_cli(dict(env, HF_ENDPOINT=closed), "download", NAME)
    assert unreachable.returncode == 1
    assert f"cannot reach {closed}" in unreachable.stderr and "HF_ENDPOINT" in unreachable.stderr
    assert snapshot(env) == []


def test_modelscope_from_a_prefilled_cache_offline(
    tmp_path: Path,
    source: Path,
    pictures: list[Path],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import modelscope

    cache = tmp_path / "modelscope"
    shutil.copytree(source, cache / "models" / REPO.replace("/", "--") / "snapshots" / "master")
    monkeypatch.setenv("MODELSCOPE_CACHE", str(cache))
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls: list[dict] = []
    real = modelscope.snapshot_download

    def recorded(**kwargs: object) -> str:
        calls.append(kwargs)
        return str(real(**kwargs))

    monkeypatch.setattr(modelscope, "snapshot_download", recorded)
    spec = find_spec(REPO, hub="modelscope")
    folder = resolve_weights(spec, WeightsOptions(hub="modelscope"))
    assert Path(folder) == cache / "models" / REPO.replace("/", "--") / "snapshots" / "master"
    assert calls == [
        {
            "model_id": REPO,
            "revision": None,
            "allow_patterns": [
                "*.json",
                "*.safetensors",
                "*.py",
                "*.txt",
                "*.model",
                "*.tiktoken",
                "*.jinja",
            ],
            "local_dir": None,
            "local_files_only": True,
        }
    ]
    with vlmi.load(REPO, hub="modelscope") as model:
        assert model.eval(QUERY, [str(pictures[0])], max_new_tokens=8) == expected
    # the command too: the architecture read from the cached config.json, the rest from the cache
    done = vlmi_cli(dict(os.environ), "download", REPO, "--hub", "modelscope", "-q")
    assert done.returncode == 0, done.stderr
    assert f"in {folder}" in done.stdout and "hub='modelscope'" in done.stdout
    with pytest.raises(WeightsNotFoundError, match="not in the ModelScope cache"):
        resolve_weights(spec, WeightsOptions(hub="modelscope", model_path="vlmi-test/absent"))
