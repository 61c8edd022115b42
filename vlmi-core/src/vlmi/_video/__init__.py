"""Videos: what a video input is, which frames a rule picks, and decoding only those.

- :mod:`.values`: :class:`Video` (an input and its sampling options) and
  :class:`VideoSampling` (what was taken; written with each prediction);
- :mod:`.sampling`: the rules (VLMEvalKit's, qwen-vl-utils', linspace, segments) as
  plain arithmetic on a frame count and a frame rate;
- :mod:`.source`: a source made readable (a file, a downloaded URL, a data URI, bytes),
  or a frame folder or list;
- :mod:`.decode`: PyAV, imported only when a video file is read; only the sampled
  frames are decoded and kept;
- :mod:`.load`: :func:`load_video`, the one path from a :class:`Video` to frames.
"""
