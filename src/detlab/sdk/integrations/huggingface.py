"""Hugging Face ``Trainer``: ``DetlabCallback``, a ``TrainerCallback`` that records into detlab.

>>> from transformers import Trainer  # doctest: +SKIP
>>> from detlab.sdk.integrations.huggingface import DetlabCallback  # doctest: +SKIP
>>> callback = DetlabCallback(project="coco-detr", name="detr-r50")  # doctest: +SKIP
>>> Trainer(model=model, args=args, callbacks=[callback], ...).train()  # doctest: +SKIP

Params: the ``TrainingArguments`` and the model's config. Logs keep their names the way the
Trainer's own TensorBoard callback writes them (``eval_X`` as ``val/X``, ``test_X`` as
``test/X``, the rest under ``train/``), and the ``compute_metrics`` keys of the Hugging Face
object-detection examples (torchmetrics' ``map``, ``map_50``, ...) also under detlab's
canonical names (``val/AP``, ``val/AP50``, ...). Steps: the 1-based epoch a log belongs to
(``state.epoch`` 0.5 and 1.0 are epoch 1), or ``step="global_step"``. The end-of-training
summary (``train_runtime``, the mean ``train_loss``...) is not logged as points. At the end of
training the best and the last checkpoint folders become artifacts and the run finishes; a
later ``trainer.evaluate()`` reattaches to it (a new segment) and finishes it again. The Trainer
has no callback for an exception: a training that raises is closed at exit as ``crashed``.
"""

from __future__ import annotations

# TrainerCallback is the base class, needed when DetlabCallback is defined: transformers is
# imported at module level here (TID253 does not cover it), and only this module pays for it.
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from detlab.sdk import init
from detlab.sdk.integrations._common import plain_params, require
from detlab.sdk.integrations.names import TORCHMETRICS_ALIASES
from detlab.sdk.run import Run

_transformers = require("transformers", "transformers")
_TrainerCallback: Any = _transformers.TrainerCallback

__all__ = ["DetlabCallback", "hf_log_values"]

#: The Trainer's end-of-training summary: one row, not points of a curve.
_SUMMARY_KEYS = frozenset({"train_runtime", "train_samples_per_second", "train_steps_per_second"})


class DetlabCallback(_TrainerCallback):  # type: ignore[misc]  # transformers: Any here
    """Hugging Face ``TrainerCallback`` writing to a detlab run (see the module's docstring).

    Keyword arguments other than ``step`` and ``aliases`` go to :func:`detlab.init`
    (``store=``, ``tags=``, ``parent=``, ``baselines=``...).
    """

    def __init__(
        self,
        project: str,
        name: str | None = None,
        *,
        step: Literal["epoch", "global_step"] = "epoch",
        aliases: Mapping[str, str] | None = None,
        **init_kwargs: Any,
    ) -> None:
        self.project = project
        self.name = name
        self.step = step
        self.aliases = {**TORCHMETRICS_ALIASES, **(aliases or {})}
        self.init_kwargs = init_kwargs
        self.run: Run | None = None
        self._training = False

    def _ensure_run(self, params: Mapping[str, Any] | None = None) -> Run:
        if self.run is None:
            kwargs = {"params": params, **self.init_kwargs}
            self.run = init(project=self.project, name=self.name, **kwargs)
        elif self.run.status != "running":  # evaluate() after train() finished the run
            name = self.run.name
            self.run = init(project=self.project, name=name, resume=True, **self.init_kwargs)
        return self.run

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._training = True
        params = plain_params(args.to_dict())
        config = getattr(kwargs.get("model"), "config", None)
        if config is not None and hasattr(config, "to_dict"):
            params = {**plain_params({"model": config.to_dict()}), **params}
        self._ensure_run(params)

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs or _SUMMARY_KEYS & set(logs):
            return
        values = hf_log_values(logs, self.aliases)
        if values:
            self._ensure_run().log(values, step=self._step_of(state, logs))

    def _step_of(self, state: Any, logs: Mapping[str, Any]) -> int:
        if self.step == "global_step":
            return int(state.global_step)
        epoch = logs.get("epoch", state.epoch) or 0.0
        return max(1, math.ceil(round(float(epoch), 6)))

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # trainer.evaluate() outside training reattached to the finished run: close it again
        if not self._training and self.run is not None:
            self.run.finish()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._training = False
        if not state.is_world_process_zero or self.run is None:
            return
        last = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        for path in dict.fromkeys(p for p in (state.best_model_checkpoint, last) if p):
            if Path(path).exists():
                self.run.log_artifact(path, kind="checkpoint")
        self.run.finish()


def hf_log_values(logs: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, float]:
    """A Trainer log as points: ``eval_X`` -> ``val/X``, ``test_X`` -> ``test/X``, else
    ``train/X``; plus canonical names for ``val/X`` keys in ``aliases``."""
    values: dict[str, float] = {}
    for key, value in logs.items():
        if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        name = _hf_name(key)
        values[name] = float(value)
        canonical = aliases.get(name)
        if canonical is not None:
            values.setdefault(canonical, float(value))
    return values


def _hf_name(key: str) -> str:
    for prefix, group in (("eval_", "val/"), ("test_", "test/")):
        if key.startswith(prefix):
            return group + key.removeprefix(prefix)
    return "train/" + key
