"""Supervised training: ``detlab run`` / :func:`supervise` restart a crashed training from its
newest checkpoint with a new seed, and record why (see ``docs/supervise.md``).

>>> from detlab.supervise import supervise  # doctest: +SKIP
>>> supervise(["python", "train.py"], project="voc-yolo", name="r18",
...           checkpoints="work_dir/epoch_*.pth", seeds=[28, 31])  # doctest: +SKIP
"""

from __future__ import annotations

from detlab.supervise.reasons import AttemptEnd, Verdict, classify
from detlab.supervise.supervisor import RestartRecord, SupervisedResult, supervise

__all__ = ["AttemptEnd", "RestartRecord", "SupervisedResult", "Verdict", "classify", "supervise"]
