"""VLMEvalKit dataset files: read, prompted, scored and exported as VLMEvalKit does.

:mod:`.read` streams a TSV, :mod:`.prompts` builds VLMEvalKit's default
prompts, :mod:`.rows` turns rows into run records, :mod:`.predictions` reads
a run's output back, :mod:`.score` scores it, :mod:`.export` writes
VLMEvalKit's predictions file, :mod:`.cli` the ``score`` / ``export`` commands.
"""
