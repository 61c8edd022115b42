"""``vlmi compare``: many models, each in its own environment, on many datasets.

A plan file (:mod:`.plan`) names the datasets and the models; each (model,
dataset) pair is a resumable ``vlmi run`` in the model's environment
(:mod:`.pair_process`), scheduled over disjoint GPU sets (:mod:`.schedule`),
scored with the ``vlmi score`` code (:mod:`.scores`) and gathered into a
leaderboard (:mod:`.leaderboard`) and a picture (:mod:`.picture`). The driver
imports no engine: other environments are reached only through their
``vlmi`` command.
"""
