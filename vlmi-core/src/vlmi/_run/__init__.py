"""``vlmi run``: the benchmark runner.

:mod:`.api` is ``vlmi.run`` (one skeleton for every executor), :mod:`.inputs`
reads JSON Lines and picks the reader by suffix, :mod:`.executor` is the
executor protocol, :mod:`.local` the in-process executor, :mod:`.output`
resume, records and the summary, :mod:`.cli` the command.
"""
