"""The conformance suite every vlmi plugin runs against its models.

Usage, in a plugin's test module::

    from vlmi.testing import ModelConformance

    class TestMyModel(ModelConformance):
        model_name = "my-model"
        load_options = {"model_path": "/tmp/tiny-checkpoint"}
        plugin_module = "vlmi_myfamily"

The kit loads the model once per class (its class-scoped ``model`` fixture)
and closes it after the class. For an engine that is slow to start, share one
engine across the session instead: start it in a session-scoped fixture and
override ``model`` in the subclass to return it (the kit then leaves closing
it to that fixture)::

    class TestMyModel(ModelConformance):
        model_name = "my-model"

        @pytest.fixture(scope="class")
        @classmethod
        def model(cls, my_session_model):
            return my_session_model

What it checks: text-only, one-image and several-image calls reach the
plugin as one sample with exactly those images, decoded, in order (and, for a
model whose answers report its images, set ``image_report`` to check the
answers too); every image input kind gives the same answer as the file path; typed errors for bad
inputs (missing, corrupt, truncated, unsupported, too large, too many images)
raised before the engine is touched; ``eval_batch`` keeps input order, puts
errors in the failed slots and matches one-at-a-time answers; ``max_new_tokens``
cuts answers short (a one-token limit gives a shorter answer than 24 tokens on
at least one of three prompts); unknown options are rejected; the model's
``preferred_batch_size`` (a run's chunk when none is given) is a whole number >= 1, and the
same on the model described without an engine; importing the plugin and listing
its models pulls in no heavy module (torch, engines); the model's ``map_error`` turns the
engine's own exceptions the test declares (``engine_errors``: the engine gone, a timeout, a
lost connection) into vlmi's failures of the moment, and an engine call that raises one gives
that error in every slot of the batch. Videos: see :mod:`vlmi.testing.video_checks` (the
checks that decode a clip need PyAV, ``vlmi-core[video]``; without it they skip, saying so).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

import vlmi
from vlmi import errors
from vlmi.testing.inputs import IMAGE_KINDS, image_inputs, make_picture, png_bytes, serve_folder
from vlmi.testing.video_checks import VideoConformance, engine_calls

#: Modules that importing a plugin (or listing its models) must not import.
HEAVY_MODULES = ("torch", "numpy", "transformers", "vllm", "lmdeploy", "tensorflow", "jax")


def heavy_modules_after_import(
    module: str | None, heavy: tuple[str, ...] = HEAVY_MODULES
) -> list[str]:
    """Which heavy modules a fresh interpreter holds after importing ``module`` and listing."""
    code = (
        "import sys, json, vlmi\n"
        + (f"import {module}\n" if module else "")
        + "vlmi.list_models()\n"
        + f"print(json.dumps(sorted(m for m in {list(heavy)!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


class ModelConformance(VideoConformance):
    """Subclass in a test module and set the class attributes below."""

    #: the name (or alias) passed to vlmi.load
    model_name: ClassVar[str] = ""
    #: options passed to vlmi.load (e.g. a tiny checkpoint's model_path)
    load_options: ClassVar[dict[str, Any]] = {}
    #: the plugin's import name, checked for heavy imports
    plugin_module: ClassVar[str | None] = None
    #: batched answers must equal one-at-a-time answers (greedy); turn off for bf16 engines
    batch_matches_single: ClassVar[bool] = True
    #: the question used throughout
    question: ClassVar[str] = "Describe the picture."
    #: for a model whose answer says which images it received (a test model): answer ->
    #: the (width, height) of each image, in order; the kit then checks count and order
    image_report: ClassVar[Callable[[str], list[tuple[int, int]]] | None] = None
    #: the engine's own exceptions, built from its real classes, each with the vlmi error
    #: class the model's ``map_error`` must give for it, e.g. for vLLM
    #: ``[(lambda: EngineDeadError(), errors.EngineGoneError)]``; empty: not checked
    engine_errors: ClassVar[
        Sequence[tuple[Callable[[], BaseException], type[errors.VlmiError]]]
    ] = ()

    # --- fixtures -----------------------------------------------------------------

    @pytest.fixture
    def received(self, model: vlmi.Model[Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
        """The samples that reach the plugin's generate / generate_batch, as it sees them."""
        seen: list[Any] = []
        depth = [0]
        for method in ("generate", "generate_batch"):
            original = getattr(model, method)

            def spy(samples: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                if depth[0] == 0:
                    seen.extend(samples if isinstance(samples, (list, tuple)) else [samples])
                depth[0] += 1
                try:
                    return _original(samples, *args, **kwargs)
                finally:
                    depth[0] -= 1

            monkeypatch.setattr(model, method, spy)
        return seen

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls) -> Iterator[vlmi.Model[Any]]:
        if not cls.model_name:
            pytest.fail("set model_name on your ModelConformance subclass")
        model = vlmi.load(cls.model_name, **cls.load_options)
        yield model
        model.close()

    @pytest.fixture(scope="class")
    @classmethod
    def inputs(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
        folder = tmp_path_factory.mktemp("vlmi-inputs")
        with serve_folder(folder) as base_url:
            yield image_inputs(folder, base_url)

    @pytest.fixture(scope="class")
    @classmethod
    def pictures(cls, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
        folder = tmp_path_factory.mktemp("vlmi-pictures")
        paths = []
        for seed in range(4):
            path = folder / f"p{seed}.png"
            make_picture(56 + 8 * seed, 40 + 4 * seed, seed=seed).save(path)
            paths.append(str(path))
        return paths

    def _needs_images(self, model: vlmi.Model[Any], count: int) -> None:
        if model.max_images is not None and model.max_images < count:
            pytest.skip(f"{model.name} takes at most {model.max_images} image(s)")

    def _ask(self, model: vlmi.Model[Any], imgs: Any = None, **generation: Any) -> str:
        generation.setdefault("max_new_tokens", 8)
        return model.eval(self.question, imgs=imgs, **generation)

    def _check_images(
        self, answer: str, received: list[Any], sizes: list[tuple[int, int]], text: str | None
    ) -> None:
        """The plugin got one sample with exactly these images, in order (and says so, if told)."""
        assert isinstance(answer, str)
        assert len(received) == 1, f"expected one sample to reach the model, got {len(received)}"
        images = [p.image for p in received[0].parts if hasattr(p, "image")]
        assert [(img.width, img.height) for img in images] == sizes
        assert all(img.mode == "RGB" for img in images)
        if text is not None:
            assert text in received[0].text
        report = type(self).image_report  # a plain function or a staticmethod, unbound here
        if report is not None:
            assert report(answer) == sizes, answer

    # --- the three call shapes ----------------------------------------------------

    def test_text_only(self, model: vlmi.Model[Any], received: list[Any]) -> None:
        answer = model.eval("What is two plus two?", max_new_tokens=8)
        self._check_images(answer, received, [], "What is two plus two?")
        assert model.eval("What is two plus two?", imgs=[], max_new_tokens=8) == answer

    def test_one_image(
        self, model: vlmi.Model[Any], pictures: list[str], received: list[Any]
    ) -> None:
        self._needs_images(model, 1)
        single = self._ask(model, pictures[0])
        self._check_images(single, received, [_size(pictures[0])], self.question)
        assert self._ask(model, [pictures[0]]) == single

    def test_several_images(
        self, model: vlmi.Model[Any], pictures: list[str], received: list[Any]
    ) -> None:
        self._needs_images(model, 2)
        count = min(3, model.max_images or 3)
        chosen = list(reversed(pictures[:count]))  # sizes differ, so order is visible
        answer = self._ask(model, chosen)
        self._check_images(answer, received, [_size(p) for p in chosen], self.question)

    def test_image_only(
        self, model: vlmi.Model[Any], pictures: list[str], received: list[Any]
    ) -> None:
        self._needs_images(model, 1)
        answer = model.eval(imgs=pictures[1], max_new_tokens=8)
        self._check_images(answer, received, [_size(pictures[1])], None)

    @pytest.mark.parametrize("kind", IMAGE_KINDS)
    def test_image_input_kind(
        self, model: vlmi.Model[Any], inputs: dict[str, Any], kind: str
    ) -> None:
        self._needs_images(model, 1)
        if kind not in inputs:
            pytest.skip(f"{kind} input not available here (numpy missing?)")
        assert self._ask(model, inputs[kind]) == self._ask(model, inputs["path"])

    # --- bad input ----------------------------------------------------------------

    def test_nothing_to_ask(self, model: vlmi.Model[Any]) -> None:
        with pytest.raises(errors.InvalidSampleError, match="nothing to ask"):
            model.eval()
        with pytest.raises(errors.InvalidSampleError):
            model.eval("", imgs=[])

    def test_bad_images_get_typed_errors(
        self, model: vlmi.Model[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._needs_images(model, 1)
        data = png_bytes(make_picture())
        truncated = tmp_path / "truncated.png"
        truncated.write_bytes(data[: len(data) // 2])
        junk = tmp_path / "junk.jpg"
        junk.write_bytes(b"this is not an image at all" * 10)
        cases: list[tuple[Any, type[errors.ImageError]]] = [
            (tmp_path / "missing.png", errors.ImageNotFoundError),
            (str(junk), errors.ImageDecodeError),
            (str(truncated), errors.ImageDecodeError),
            (object(), errors.UnsupportedImageTypeError),
        ]
        for src, error in cases:
            with pytest.raises(error):
                self._ask(model, src)
        monkeypatch.setenv("VLMI_MAX_IMAGE_PIXELS", "100")
        with pytest.raises(errors.ImageTooLargeError):
            self._ask(model, data)

    def test_too_many_images_fails_before_the_engine(
        self, model: vlmi.Model[Any], pictures: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if model.max_images is None:
            pytest.skip(f"{model.name} declares no image limit")
        calls = engine_calls(model, monkeypatch)
        too_many = [pictures[i % len(pictures)] for i in range(model.max_images + 1)]
        with pytest.raises(errors.TooManyImagesError):
            self._ask(model, too_many)
        (result,) = model.eval_batch([(self.question, too_many)], max_new_tokens=4)
        assert isinstance(result, errors.TooManyImagesError)
        assert calls == []

    # --- batches ------------------------------------------------------------------

    def test_batch_order_and_per_sample_errors(
        self, model: vlmi.Model[Any], pictures: list[str], tmp_path: Path
    ) -> None:
        samples: list[Any] = ["What is two plus two?", {"query": None, "imgs": None}]
        good_slots = [0]
        if model.max_images is None or model.max_images >= 1:
            samples += [(self.question, [pictures[0]]), (self.question, str(tmp_path / "nope.png"))]
            good_slots.append(2)
        if model.max_images is None or model.max_images >= 2:
            samples.append({"query": self.question, "imgs": pictures[1:3]})
            good_slots.append(len(samples) - 1)
        samples.append("Name a colour.")
        good_slots.append(len(samples) - 1)
        results = model.eval_batch(samples, max_new_tokens=8)
        assert len(results) == len(samples)
        for index, result in enumerate(results):
            if index in good_slots:
                assert isinstance(result, str), f"slot {index}: {result!r}"
            else:
                assert isinstance(result, errors.VlmiError), f"slot {index}: {result!r}"
                assert result.sample_index == index
        assert isinstance(results[1], errors.InvalidSampleError)
        if self.batch_matches_single:
            singles = model.eval_batch([samples[i] for i in good_slots], max_new_tokens=8)
            one_by_one = [model.eval_batch([samples[i]], max_new_tokens=8)[0] for i in good_slots]
            assert singles == one_by_one == [results[i] for i in good_slots]

    def test_empty_batch(self, model: vlmi.Model[Any]) -> None:
        assert model.eval_batch([]) == []

    # --- options ------------------------------------------------------------------

    def test_max_new_tokens_is_honoured(self, model: vlmi.Model[Any]) -> None:
        prompts = ["Count from one to fifty.", self.question, "Tell me a long story about a cat."]
        cut = 0
        for prompt in prompts:
            short = model.eval(prompt, max_new_tokens=1)
            long = model.eval(prompt, max_new_tokens=24)
            assert len(short) <= len(long), (short, long)
            assert long.strip().startswith(short.strip()), (short, long)
            cut += len(short) < len(long)
        # a model may stop after one token on a prompt, but not on every one of them: equal
        # answers everywhere mean max_new_tokens was not passed to the engine
        assert cut > 0, "max_new_tokens=1 and =24 gave the same answers to every prompt"

    def test_generation_options_are_honoured_or_refused(self, model: vlmi.Model[Any]) -> None:
        """Every option is honoured or refused, never dropped: ``stop`` cuts the answer where
        the stop string first appears; a seed makes a sampled answer reproducible; an option
        the model does not list in ``honours`` is an InvalidOptionError."""
        prompt = "Tell me a long story about a cat."
        honours = model.honours

        def honoured(name: str) -> bool:
            return honours is None or name in honours

        sampled = {"temperature": 0.8, "top_p": 0.9, "top_k": 20, "seed": 1234}
        for name, value in [*sampled.items(), ("stop", ["zzz-never"])]:
            if not honoured(name):
                with pytest.raises(errors.InvalidOptionError, match=name):
                    model.eval(prompt, max_new_tokens=8, **{name: value})
        if honoured("stop"):
            text = model.eval(prompt, max_new_tokens=24).strip()
            middle = text[len(text) // 2 :].lstrip()
            if len(middle) >= 2:
                stop = middle[:2]
                cut = model.eval(prompt, max_new_tokens=24, stop=[stop])
                assert cut.strip() == text[: text.find(stop)].strip(), (text, stop, cut)
        if all(honoured(name) for name in sampled):
            first = model.eval(prompt, max_new_tokens=16, **sampled)
            again = model.eval(prompt, max_new_tokens=16, **sampled)
            assert first == again, "the same seed gave two different sampled answers"

    def test_unknown_generation_option_is_rejected(self, model: vlmi.Model[Any]) -> None:
        with pytest.raises(errors.InvalidOptionError, match="max_new_tokens"):
            model.eval("hi", definitely_not_an_option=1)

    def test_unknown_load_option_is_rejected(self) -> None:
        with pytest.raises(errors.InvalidOptionError, match="model_path") as info:
            vlmi.load(self.model_name, **self.load_options, definitely_not_an_option=1)
        assert "definitely_not_an_option" in str(info.value)

    def test_engine_errors_are_mapped(
        self, model: vlmi.Model[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not self.engine_errors:
            pytest.skip("declare engine_errors: the engine's exceptions and their vlmi errors")
        for make, expected in self.engine_errors:
            exc = make()
            mapped = model.map_error(exc)
            assert isinstance(mapped, expected), (
                f"map_error({exc!r}) gave {mapped!r}, not a {expected.__name__}"
            )
            assert str(mapped), f"map_error({exc!r}) gave an error without a message"
            assert mapped.retryable == expected.retryable

            def failing(*args: Any, _exc: BaseException = exc, **kwargs: Any) -> Any:
                raise _exc

            monkeypatch.setattr(model, "generate_batch", failing)
            monkeypatch.setattr(model, "generate", failing)
            answers = model.eval_batch(["one", "two"], max_new_tokens=4)
            assert all(isinstance(a, expected) and a.retryable for a in answers), answers
            monkeypatch.undo()
        plain = model.map_error(ValueError("a failure of the sample"))
        assert plain is None or not plain.retryable, "a plain ValueError is not of the moment"

    def test_preferred_batch_size_is_known_without_an_engine(self, model: vlmi.Model[Any]) -> None:
        from vlmi.plugin import describe_model

        size = model.preferred_batch_size
        assert isinstance(size, int) and not isinstance(size, bool) and size >= 1, size
        described = describe_model(self.model_name, **self.load_options)
        assert described.preferred_batch_size == size

    def test_listed_and_light(self) -> None:
        from .._registry import get_registry

        registry = get_registry()
        spec = registry.resolve(self.model_name)
        if self.model_name.lower() in registry.names:
            assert spec.name in {m.name for m in vlmi.list_models()}
        assert heavy_modules_after_import(self.plugin_module) == []


def _size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    return int(width), int(height)


__all__ = ["HEAVY_MODULES", "ModelConformance", "heavy_modules_after_import"]
