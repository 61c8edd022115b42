"""Benchmark video sampling: only the chosen frames decoded, against decoding every frame.

Needs vlmi-core with PyAV (``pip install 'vlmi-core[video]'``). Builds once, in a cache
folder, a 10-minute 1280x720 H.264 clip (25 fps, 15,000 frames, libx264 preset
``veryfast`` with the encoder's default keyframe interval: 250) and a 1-minute one, then,
each in a fresh process so that its peak memory is its own, times:

- ``sample 8`` / ``sample 64``: ``vlmi.plugin.load_video`` with VLMEvalKit's frame rule
  (what a model gets: seek to each frame's keyframe, decode forward, keep the chosen);
- ``every frame``: the same frames, reading the clip from its start and decoding every
  frame (what a reader without seeking does).

Prints wall seconds, CPU seconds (user + system, all threads: on a machine shared with
other work, the wall time grows and this much less), frames delivered per second, frames
decoded per second and peak RSS (``ru_maxrss``), for both clip lengths side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

WIDTH, HEIGHT, FPS = 1280, 720, 25


def build_clip(path: Path, seconds: int) -> Path:
    """A moving gradient with a painted block code per frame, encoded once (cached)."""
    if path.exists():
        return path
    import av
    import numpy as np

    partial = path.with_suffix(".partial.mp4")
    y = np.add.outer(np.arange(HEIGHT), np.arange(WIDTH)).astype(np.uint16)
    chroma = np.full((HEIGHT // 2, WIDTH), 128, dtype=np.uint8)
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS), options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(seconds * FPS):
            luma = ((y + 3 * index) % 256).astype(np.uint8)
            for bit in range(12):  # the index as 12 blocks along the top
                luma[:80, bit * 100 : bit * 100 + 90] = 255 if index >> (11 - bit) & 1 else 0
            frame = av.VideoFrame.from_ndarray(np.concatenate([luma, chroma]), format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.rename(path)
    return path


def child(mode: str, path: str, count: int) -> None:
    """One measurement, in this process; prints a JSON line."""
    import vlmi
    from vlmi.plugin import load_video

    began = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    if mode == "sampled":
        frames, _ = load_video(vlmi.Video(path, nframes=count))
        decoded = None
    else:
        frames, decoded = every_frame(path, count)
    wall = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime - cpu.ru_utime - cpu.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {"wall": wall, "cpu": cpu_s, "frames": len(frames), "decoded": decoded, "rss": peak_mb}
        )
    )


def every_frame(path: str, count: int) -> tuple[list[object], int]:
    """The frames VLMEvalKit's rule picks, found by decoding the clip from its start."""
    import av

    from vlmi._video.sampling import choose_frames

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = sum(1 for p in container.demux(stream) if p.size)
        _, wanted = choose_frames(total, float(stream.average_rate), {"nframes": count})
        container.seek(0)
        chosen, kept, decoded = set(wanted), [], 0
        for position, frame in enumerate(container.decode(stream)):
            decoded += 1
            if position in chosen:
                kept.append(frame.to_image())
            if position >= wanted[-1]:
                break
    return kept, decoded


def measure(mode: str, path: Path, count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vlmi-bench")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "PATH", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    clips = {}
    for minutes in (1, 10):
        began = time.perf_counter()
        clips[minutes] = build_clip(args.cache / f"clip-{minutes}min-720p.mp4", minutes * 60)
        print(f"clip {minutes} min: {clips[minutes]} ({time.perf_counter() - began:.0f} s to get)")
    print(f"cores: {os.cpu_count()}")
    columns = ("clip", "what", "wall s", "CPU s", "frames/s", "decoded/s", "peak RSS MB")
    widths = (6, 16, 8, 7, 9, 10, 12)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for minutes, path in clips.items():
        for label, mode, count in (
            ("sample 8", "sampled", 8),
            ("sample 64", "sampled", 64),
            ("every frame (8)", "every", 8),
        ):
            r = measure(mode, path, count)
            decoded = r["decoded"] or 0
            rate = f"{decoded / r['wall']:10.0f}" if decoded else f"{'-':>10}"
            print(
                f"{minutes:>4}min {label:>16} {r['wall']:8.2f} {r['cpu']:7.2f} "
                f"{r['frames'] / r['wall']:9.1f} "
                f"{rate} {r['rss']:12.0f}"
            )


if __name__ == "__main__":
    main()
