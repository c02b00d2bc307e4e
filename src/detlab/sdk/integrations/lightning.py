"""PyTorch Lightning: ``DetlabLogger``, a ``Logger`` that records into detlab.

>>> from lightning.pytorch import Trainer  # doctest: +SKIP
>>> from detlab.sdk.integrations.lightning import DetlabLogger  # doctest: +SKIP
>>> logger = DetlabLogger(project="voc-retina", name="r50-sgd", tags=["colab"])  # doctest: +SKIP
>>> Trainer(max_epochs=12, logger=logger).fit(model, datamodule)  # doctest: +SKIP

Hyperparameters become params; metrics keep the names they are logged under, and
torchmetrics' ``MeanAveragePrecision`` keys logged as ``val/map_50`` or ``val_map_50`` (and
``train_loss``) are also logged under detlab's canonical names (``val/AP50``, ...,
``train/loss``); ``aliases=`` adds more. Steps are 1-based epochs (Lightning's epoch 0 is
step 1, as every integration numbers the first epoch), so that "best ``val/AP50`` @ epoch"
reads as for other frameworks; ``step="global_step"`` keeps Lightning's own step instead.
``finalize("success")`` finishes the run, ``"failed"`` marks it failed (crashed on an
interrupt); the best and last checkpoints of ``ModelCheckpoint`` become artifacts.

Built on ``lightning.pytorch`` when it is installed, else on ``pytorch_lightning``.
"""

from __future__ import annotations

# Lightning's Logger base class is needed when DetlabLogger is defined, so the framework is
# imported when this module is (by name, to pick lightning.pytorch or pytorch_lightning);
# only this module pays for it.
import importlib
from collections.abc import Mapping
from typing import Any, Literal

from detlab.sdk import init
from detlab.sdk.integrations._common import finish_from_exception, plain_params, require
from detlab.sdk.integrations.names import TORCHMETRICS_ALIASES, with_canonical
from detlab.sdk.run import Run

__all__ = ["DetlabLogger"]


def _lightning_package() -> str:
    """``lightning.pytorch`` if installed, else ``pytorch_lightning``, else the error."""
    for package in ("lightning.pytorch", "pytorch_lightning"):
        try:
            importlib.import_module(package)
        except ImportError:
            continue
        return package
    require("lightning.pytorch", "lightning")  # raises MissingDependencyError
    return ""  # pragma: no cover


_PACKAGE = _lightning_package()
_loggers = importlib.import_module(f"{_PACKAGE}.loggers")
_rank_zero_only = importlib.import_module(f"{_PACKAGE}.utilities").rank_zero_only
_Logger: Any = _loggers.Logger

StepUnit = Literal["epoch", "global_step"]


class DetlabLogger(_Logger):  # type: ignore[misc]  # Lightning is untyped here
    """Lightning ``Logger`` writing to a detlab run (see the module's docstring).

    ``project`` and ``name`` name the run; other keyword arguments go to :func:`detlab.init`
    (``store=``, ``tags=``, ``parent=``, ``baselines=``, ``params=``...).
    """

    def __init__(
        self,
        project: str,
        name: str | None = None,
        *,
        step: StepUnit = "epoch",
        aliases: Mapping[str, str] | None = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self._project = project
        self._name = name
        self._step_unit = step
        self._aliases = {**TORCHMETRICS_ALIASES, **(aliases or {})}
        self._init_kwargs = init_kwargs
        self._run: Run | None = None
        self._checkpoint_callback: Any = None

    # ------------------------------------------------------------------ the run

    def _ensure_run(self) -> Run:
        if self._run is None:
            self._run = init(project=self._project, name=self._name, **self._init_kwargs)
        elif self._run.status != "running":  # fit finished, then validate/test log again
            name = self._run.name
            self._run = init(project=self._project, name=name, resume=True, **self._init_kwargs)
        return self._run

    @property
    def experiment(self) -> Run:
        """The detlab :class:`~detlab.sdk.run.Run`."""
        return self._ensure_run()

    @property
    def name(self) -> str:
        """The project: Lightning puts checkpoints under ``<root>/<name>/<version>/``."""
        return self._project

    @property
    def version(self) -> str:
        """The run's name."""
        return self._ensure_run().name

    # ------------------------------------------------------------------ Logger API

    @_rank_zero_only  # type: ignore[untyped-decorator]
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        data = (
            vars(params)
            if hasattr(params, "__dict__") and not isinstance(params, Mapping)
            else params
        )
        self._ensure_run().log_params(plain_params(dict(data or {})))

    @_rank_zero_only  # type: ignore[untyped-decorator]
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values = {k: float(v) for k, v in metrics.items() if k != "epoch"}
        at = step
        if self._step_unit == "epoch" and "epoch" in metrics:
            at = int(metrics["epoch"]) + 1
        self._ensure_run().log(with_canonical(values, self._aliases), step=at)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self._checkpoint_callback = checkpoint_callback

    def save(self) -> None:
        """Nothing: Lightning calls this after every ``log_metrics``, and the run's writer
        already writes at least every second, and everything at ``finalize``."""

    @_rank_zero_only  # type: ignore[untyped-decorator]
    def finalize(self, status: str) -> None:
        run = self._run
        if run is None or run.status != "running":
            return
        if status == "finished":  # SLURM requeue: the job goes on later, in a new process
            run.flush()
            return
        self._log_checkpoints(run)
        if status == "success":
            run.finish()
        else:
            finish_from_exception(run)
            if run.status == "running":  # "failed" called outside an exception handler
                run.finish("failed", error=f"Lightning finalize({status!r})")

    def _log_checkpoints(self, run: Run) -> None:
        callback = self._checkpoint_callback
        if callback is None:
            return
        paths = {callback.best_model_path, callback.last_model_path} - {"", None}
        for path in sorted(paths):
            run.log_artifact(path, kind="checkpoint")
