"""The sample handed to plugins: ordered content (text, image and video parts).

Plugins never see the many input shapes users type; they see a
:class:`Sample`, whose ``parts`` keep the order the user gave, so interleaved
input fits without a change to the plugin contract. Accepted input shapes:

- ``Sample`` itself;
- ``str`` (text only);
- ``(query, imgs)`` tuples;
- dicts ``{"query": ..., "imgs": ..., "videos": ..., "id": ..., "generation": {...}}``
  (``"question"`` / ``"images"`` / ``"image"`` / ``"video"`` are accepted too); a
  video is a source or a dict ``{"source": ..., "nframes": 8, ...}``
  (:class:`vlmi.Video`'s fields);
- VLMEvalKit-style message lists ``[{"type": "image", "value": ...},
  {"type": "video", "value": ...}, {"type": "text", "value": ...}]``;
- OpenAI-style content parts ``[{"type": "text", "text": ...},
  {"type": "image_url", "image_url": {"url": ...}},
  {"type": "video_url", "video_url": {"url": ...}}]`` or a one-turn chat
  ``[{"role": "user", "content": [...]}]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from typing import Any

from vlmi.errors import InvalidSampleError

from ._video.values import Video, VideoSampling, video_from


@dataclass(frozen=True)
class TextPart:
    """A piece of text."""

    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image: ``source`` as the user gave it, ``image`` once loaded (RGB PIL)."""

    source: Any
    image: Any = None

    @property
    def loaded(self) -> bool:
        """Whether ``image`` holds the decoded picture."""
        return self.image is not None


@dataclass(frozen=True)
class VideoPart:
    """A video: ``source`` (a :class:`vlmi.Video`), then its sampled frames once loaded.

    :param frames: the sampled frames, RGB PIL images, in order (``None`` until loaded).
    :param sampling: which frames were taken, and how (``None`` until loaded).
    """

    source: Video
    frames: tuple[Any, ...] | None = None
    sampling: VideoSampling | None = None

    @property
    def loaded(self) -> bool:
        """Whether ``frames`` holds the sampled frames."""
        return self.frames is not None


Part = TextPart | ImagePart | VideoPart


@dataclass(frozen=True)
class Sample:
    """One request: ordered content parts, an optional id, per-sample generation options."""

    parts: tuple[Part, ...]
    id: str | None = None
    generation: Mapping[str, Any] = field(default_factory=dict)

    @property
    def images(self) -> list[Any]:
        """The loaded images (or their sources, before loading), in order."""
        return [p.image if p.loaded else p.source for p in self.parts if isinstance(p, ImagePart)]

    @property
    def num_images(self) -> int:
        """How many image parts the sample holds."""
        return sum(isinstance(p, ImagePart) for p in self.parts)

    @property
    def video_parts(self) -> list[VideoPart]:
        """The video parts, in order."""
        return [p for p in self.parts if isinstance(p, VideoPart)]

    @property
    def videos(self) -> list[Any]:
        """Each video's frames once loaded (a tuple of images), or its :class:`vlmi.Video`."""
        return [p.frames if p.loaded else p.source for p in self.video_parts]

    @property
    def num_videos(self) -> int:
        """How many video parts the sample holds."""
        return sum(isinstance(p, VideoPart) for p in self.parts)

    @property
    def text(self) -> str:
        """All text parts joined by newlines (for engines that take one string)."""
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    def with_parts(self, parts: Iterable[Part]) -> Sample:
        """A copy holding other parts."""
        return replace(self, parts=tuple(parts))

    def with_id(self, sample_id: str) -> Sample:
        """A copy with another id."""
        return replace(self, id=sample_id)

    def with_video_defaults(self, defaults: Mapping[str, Any]) -> Sample:
        """A copy whose videos take ``defaults`` for the sampling options they leave unset."""
        if not defaults or not self.num_videos:
            return self
        return self.with_parts(
            VideoPart(p.source.with_defaults(defaults)) if isinstance(p, VideoPart) else p
            for p in self.parts
        )

    @classmethod
    def from_query(
        cls,
        query: str | None = None,
        imgs: Any = None,
        *,
        id: str | None = None,
        generation: Mapping[str, Any] | None = None,
        images_first: bool = True,
        videos: Any = None,
    ) -> Sample:
        """Build a sample from ``eval``'s ``(query, imgs, videos)`` form.

        ``imgs`` may be ``None``, one image input or a list/tuple of them;
        ``videos`` ``None``, one video input (a :class:`vlmi.Video`, a source or a
        dict of its fields) or a list/tuple of them. Images, then videos, go before
        the query unless ``images_first`` is false.
        """
        if query is not None and not isinstance(query, str):
            raise InvalidSampleError(
                f"query must be a str, got {type(query).__name__}; pass images with imgs=..."
            )
        images = _as_image_list(imgs)
        clips = [video_from(v, f"video {i}") for i, v in enumerate(_as_image_list(videos))]
        if not (query and query.strip()) and not images and not clips:
            raise InvalidSampleError(
                "nothing to ask: give a query, one or more images or videos, or both "
                "(eval('Describe it.', imgs=['cat.jpg']))"
            )
        media: list[Part] = [ImagePart(src) for src in images]
        media += [VideoPart(clip) for clip in clips]
        text_parts: list[Part] = [TextPart(query)] if query else []
        parts = media + text_parts if images_first else text_parts + media
        return cls(tuple(parts), id=id, generation=dict(generation or {}))

    @classmethod
    def from_messages(
        cls,
        messages: Sequence[Mapping[str, Any]],
        *,
        id: str | None = None,
        generation: Mapping[str, Any] | None = None,
    ) -> Sample:
        """Build a sample from VLMEvalKit- or OpenAI-style content lists."""
        if messages and all("role" in m for m in messages):
            user = [m for m in messages if m.get("role") == "user"]
            if len(user) != 1 or len(messages) != 1:
                raise InvalidSampleError(
                    "only one-turn conversations are supported: pass one "
                    "{'role': 'user', 'content': [...]} message"
                )
            content = user[0].get("content")
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            if not isinstance(content, Sequence):
                raise InvalidSampleError("message 'content' must be a str or a list of parts")
            messages = content
        parts = [_part_from_dict(m, i) for i, m in enumerate(messages)]
        if not any(not isinstance(p, TextPart) or p.text.strip() for p in parts):
            raise InvalidSampleError("the message list holds no text, no image and no video")
        return cls(tuple(parts), id=id, generation=dict(generation or {}))


def _as_image_list(imgs: Any) -> list[Any]:
    if imgs is None:
        return []
    if isinstance(imgs, (list, tuple)):
        return list(imgs)
    return [imgs]


def _part_from_dict(item: Any, index: int) -> Part:
    if not isinstance(item, Mapping) or "type" not in item:
        raise InvalidSampleError(
            f"content part {index} must be a dict with a 'type' (text, image or video), got "
            f"{item!r:.80}"
        )
    kind = item["type"]
    if kind == "text":
        text = item.get("value", item.get("text"))
        if not isinstance(text, str):
            raise InvalidSampleError(f"text part {index} has no str 'value' or 'text'")
        return TextPart(text)
    if kind in ("image", "image_url", "image_pil", "input_image"):
        src = item.get("value", item.get(kind, item.get("image")))
        if isinstance(src, Mapping):
            src = src.get("url")
        if src is None:
            raise InvalidSampleError(f"image part {index} has no image ('value' or 'url')")
        return ImagePart(src)
    if kind in ("video", "video_url"):
        return VideoPart(video_from(item, f"video part {index}"))
    raise InvalidSampleError(
        f"content part {index} has type {kind!r}; supported: text, image, image_url, video, "
        "video_url"
    )


_QUERY_KEYS = ("query", "question", "prompt", "text")
_IMAGE_KEYS = ("imgs", "images", "image", "img")
_VIDEO_KEYS = ("videos", "video")


def as_sample(item: Any, *, images_first: bool = True) -> Sample:
    """Turn any accepted input shape (see the module docstring) into a Sample.

    ``images_first`` places the images of the ``(query, imgs)`` forms (tuples
    and query/imgs dicts); message lists keep their own order.
    """
    if isinstance(item, Sample):
        return item
    if isinstance(item, str):
        return Sample.from_query(item)
    if isinstance(item, tuple) and len(item) == 2:
        return Sample.from_query(item[0], item[1], images_first=images_first)
    if isinstance(item, Mapping):
        return _sample_from_mapping(item, images_first)
    if isinstance(item, list) and all(isinstance(m, Mapping) for m in item):
        return Sample.from_messages(item)
    if isinstance(item, (PathLike, bytes)):
        return Sample.from_query(None, item)
    raise InvalidSampleError(
        f"cannot read a sample from a {type(item).__name__}; pass a str, a (query, imgs) tuple, "
        "a dict with 'query'/'imgs', a message list or a vlmi.Sample"
    )


def _sample_from_mapping(item: Mapping[str, Any], images_first: bool) -> Sample:
    known = set(_QUERY_KEYS) | set(_IMAGE_KEYS) | set(_VIDEO_KEYS)
    known |= {"id", "generation", "messages", "index"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise InvalidSampleError(
            f"unknown sample keys {unknown}; use 'query', 'imgs', 'videos', 'id', 'generation' "
            "or 'messages'"
        )
    sample_id = item.get("id", item.get("index"))
    sample_id = None if sample_id is None else str(sample_id)
    generation = item.get("generation") or {}
    if not isinstance(generation, Mapping):
        raise InvalidSampleError("a sample's 'generation' must be a dict of generation options")
    if "messages" in item:
        return Sample.from_messages(item["messages"], id=sample_id, generation=generation)
    query = next((item[k] for k in _QUERY_KEYS if k in item), None)
    imgs = next((item[k] for k in _IMAGE_KEYS if k in item), None)
    videos = next((item[k] for k in _VIDEO_KEYS if k in item), None)
    return Sample.from_query(
        query, imgs, id=sample_id, generation=generation, images_first=images_first, videos=videos
    )


__all__ = ["ImagePart", "Part", "Sample", "TextPart", "VideoPart", "as_sample"]
