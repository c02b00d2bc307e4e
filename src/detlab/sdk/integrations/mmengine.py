"""mmengine (mmdetection 3.x): a visualization backend and a hook that record into detlab.

Importing this module registers ``DetlabVisBackend`` in mmengine's ``VISBACKENDS`` and
``DetlabHook`` in its ``HOOKS``, so a config file can name them once it imports the module::

    custom_imports = dict(imports=["detlab.sdk.integrations.mmengine"], allow_failed_imports=False)
    visualizer = dict(
        type="Visualizer",
        vis_backends=[dict(type="LocalVisBackend"),
                      dict(type="DetlabVisBackend", project="coco-frcnn", run_name="r50-1x")],
    )
    custom_hooks = [dict(type="DetlabHook")]   # checkpoints as artifacts

The backend takes the config as params and every scalar mmengine logs, under its own name
below ``train/`` or ``val/`` (``val/coco/bbox_mAP``, ``train/loss_cls``, ``train/lr``) and, for
mmdetection's common keys, under detlab's canonical names (``coco/bbox_mAP`` -> ``val/AP``,
``pascal_voc/mAP`` -> ``val/VOCmAP``, ``loss`` -> ``train/loss``, ...). Steps: epoch-based
training logs at the 1-based epoch as the console shows it, training values as the mean of the
epoch's log rows (``lr``: the last), as ``detlab import`` reads the same run's ``scalars.json``;
iteration-based training keeps mmengine's steps (iterations). The run is named ``run_name``
(default: the timestamp mmengine names the work-dir folder after); ``name`` is taken by mmengine
itself, as the backend's name in the visualizer. Extra keyword arguments go to
:func:`detlab.init` (``store=``, ``tags=``, ``parent=``, ``baselines=``...).
"""

from __future__ import annotations

# mmengine's base classes are needed when the classes below are defined, and registration has
# to happen when this module is imported: so mmengine is imported at module level here (TID253
# waived line by line), and only this module, imported explicitly by whoever uses it, pays.
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from detlab.sdk import init
from detlab.sdk.integrations._common import plain_params, require
from detlab.sdk.integrations._mmengine_rows import Points, ScalarRows
from detlab.sdk.run import Run

require("mmengine", "mmengine")  # missing: MissingDependencyError naming detlab[mmengine]

from mmengine.hooks import Hook  # noqa: E402, TID253
from mmengine.registry import HOOKS, VISBACKENDS  # noqa: E402, TID253
from mmengine.visualization import BaseVisBackend  # noqa: E402, TID253

__all__ = ["DetlabHook", "DetlabVisBackend"]


@VISBACKENDS.register_module()
class DetlabVisBackend(BaseVisBackend):  # type: ignore[misc]  # mmengine ships no types
    """Records an mmengine run in detlab (see the module's docstring)."""

    def __init__(
        self,
        save_dir: str | None = None,
        *,
        project: str,
        run_name: str | None = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__(save_dir)
        self.project = project
        self.run_name = run_name
        self.init_kwargs = init_kwargs
        self._run: Run | None = None
        self._rows = ScalarRows()

    @property
    def experiment(self) -> Run:
        """The detlab :class:`~detlab.sdk.run.Run` (started on first use)."""
        return self._ensure_run()

    def _init_env(self) -> None:
        self._ensure_run()

    def _ensure_run(self) -> Run:
        if self._run is None:
            name = self.run_name or _experiment_name(self._save_dir)
            self._run = init(project=self.project, name=name, **self.init_kwargs)
            self._env_initialized = True
        elif self._run.status != "running":  # closed after train(); runner.test() logs again
            name = self._run.name
            self._run = init(project=self.project, name=name, resume=True, **self.init_kwargs)
        return self._run

    def add_config(self, config: Any, **kwargs: Any) -> None:
        data = config.to_dict() if hasattr(config, "to_dict") else dict(config)
        self._ensure_run().log_params(plain_params(data))

    def add_scalar(self, name: str, value: Any, step: int = 0, **kwargs: Any) -> None:
        self.add_scalars({name: value}, step=step)

    def add_scalars(
        self,
        scalar_dict: Mapping[str, Any],
        step: int = 0,
        file_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._log(self._rows.add(scalar_dict, step))

    def close(self) -> None:
        if self._run is not None:
            self._log(self._rows.flush())
            self._run.finish()

    def _log(self, points: Points) -> None:
        for values, step in points:
            if values:
                self._ensure_run().log(values, step=step)


def _experiment_name(save_dir: str | None) -> str | None:
    # mmengine's save_dir is <work_dir>/<timestamp>/vis_data: the timestamp names the run.
    if not save_dir:
        return None
    path = Path(save_dir)
    return path.parent.name if path.name == "vis_data" else path.name


@HOOKS.register_module()
class DetlabHook(Hook):  # type: ignore[misc]  # mmengine ships no types
    """Checkpoints as artifacts of the run that ``DetlabVisBackend`` records.

    After each training iteration and epoch (and at the end) the newest checkpoint that
    CheckpointHook wrote (``last_ckpt``) and the best ones (``best_ckpt*``) are recorded with
    ``run.log_artifact(path, kind="checkpoint")``, each file once.
    """

    priority = "LOWEST"  # after CheckpointHook (VERY_LOW), so that its paths are known

    def __init__(self, backend: str = "DetlabVisBackend") -> None:
        self.backend = backend
        self._logged: set[str] = set()

    def after_train_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None
    ) -> None:
        self._log_checkpoints(runner)  # iteration-based training saves here: a dict look-up

    def after_train_epoch(self, runner: Any) -> None:
        self._log_checkpoints(runner)

    def after_train(self, runner: Any) -> None:
        self._log_checkpoints(runner)

    def _log_checkpoints(self, runner: Any) -> None:
        backend = runner.visualizer.get_backend(self.backend)
        if backend is None:
            return
        for path in _checkpoint_paths(runner.message_hub.runtime_info):
            if path not in self._logged and Path(path).is_file():
                backend.experiment.log_artifact(path, kind="checkpoint")
                self._logged.add(path)


def _checkpoint_paths(info: Mapping[str, Any]) -> list[str]:
    keys = ["last_ckpt", *sorted(k for k in info if k.startswith("best_ckpt"))]
    return [str(info[k]) for k in keys if info.get(k)]
