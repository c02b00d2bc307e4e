"""Live integrations: record a run from inside the trainer people already use.

Each module imports its framework when it is imported itself, never before; this package
imports none of them (``import detlab.sdk.integrations`` stays cheap), and a missing framework
raises :class:`~detlab.errors.MissingDependencyError` naming the extra to install.

- :mod:`detlab.sdk.integrations.ultralytics`: ``attach(model, project=..., name=...)`` on an
  ``ultralytics.YOLO`` model (``pip install 'detlab[ultralytics]'``);
- :mod:`detlab.sdk.integrations.mmengine`: ``DetlabVisBackend`` and ``DetlabHook``, registered
  in mmengine's registries on import, usable from a config (``pip install 'detlab[mmengine]'``);
- :mod:`detlab.sdk.integrations.lightning`: ``DetlabLogger``, a PyTorch Lightning ``Logger``
  (``pip install 'detlab[lightning]'``);
- :mod:`detlab.sdk.integrations.huggingface`: ``DetlabCallback``, a Hugging Face
  ``TrainerCallback`` (``pip install 'detlab[transformers]'``).

Metrics keep the framework's own names and are also logged under detlab's canonical names
(``val/AP``, ``val/AP50``, ..., ``train/loss``); see ``docs/integrations.md``.
"""

from __future__ import annotations

__all__: list[str] = []
