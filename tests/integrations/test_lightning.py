"""A real Lightning ``Trainer``: a tiny module, 2 epochs, a validation metric, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.store.sql.store import SQLStore
from tests.integrations.frameworks import require

lightning = require("lightning")
torch = require("torch")

from lightning.pytorch import LightningModule, Trainer  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from detlab.sdk.integrations.lightning import DetlabLogger  # noqa: E402

PROJECT = "lightning-live"
EPOCHS = 2


class TinyModule(LightningModule):
    def __init__(self, lr: float = 0.05, depth: int = 1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.linear = torch.nn.Linear(2, 1)

    def _error(self, batch) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)

    def training_step(self, batch, batch_idx):
        loss = self._error(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx) -> None:
        error = self._error(batch)
        self.log("val/map_50", 1.0 / (1.0 + error), on_epoch=True)
        self.log("val/mse", error, on_epoch=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 2, generator=generator)
    return DataLoader(TensorDataset(x, x @ torch.tensor([1.5, -2.0])), batch_size=4)


def _trainer(tmp_path: Path, logger: DetlabLogger, **kwargs) -> Trainer:
    return Trainer(
        max_epochs=EPOCHS,
        logger=logger,
        default_root_dir=str(tmp_path),
        callbacks=[ModelCheckpoint(monitor="val/mse", mode="min", save_last=True)],
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        **kwargs,
    )


@pytest.mark.slow
def test_fit_lands_in_the_store(tmp_path: Path, store_url: str, store: SQLStore) -> None:
    logger = DetlabLogger(PROJECT, "tiny", store=store_url, tags=["ci"])
    _trainer(tmp_path, logger).fit(TinyModule(), _loader(), _loader())

    run = store.run(PROJECT, "tiny")
    assert logger.experiment.name == "tiny"
    assert run.status == "finished"
    assert run.tags == ("ci",)
    assert run.params == {"lr": 0.05, "depth": 1}

    keys = set(store.metric_keys(PROJECT, "tiny"))
    assert {"val/map_50", "val/AP50", "val/mse", "train_loss", "train/loss"} <= keys
    assert "epoch" not in keys  # it is the step
    for key in ("val/AP50", "train/loss", "val/mse"):
        steps, _ = store.history(PROJECT, "tiny", key)
        assert list(steps) == [1, 2], key  # 1-based epochs
    _, ap50 = store.history(PROJECT, "tiny", "val/AP50")
    _, own = store.history(PROJECT, "tiny", "val/map_50")
    assert list(ap50) == list(own)
    assert ap50[1] > ap50[0]

    artifacts = store.children(PROJECT, "tiny")["artifacts"]
    folder = tmp_path / PROJECT / "tiny" / "checkpoints"  # <root>/<project>/<run>/checkpoints
    expected = {(folder / n).resolve().as_uri() for n in ("epoch=1-step=8.ckpt", "last.ckpt")}
    assert {a.uri for a in artifacts} == expected
    assert all(a.kind == "checkpoint" and a.size > 0 for a in artifacts)


class FailingModule(TinyModule):
    def on_train_epoch_end(self) -> None:
        if self.current_epoch == 1:
            raise RuntimeError("loss went NaN")


@pytest.mark.slow
def test_failed_fit_marks_the_run_failed(tmp_path: Path, store_url: str, store: SQLStore) -> None:
    logger = DetlabLogger(PROJECT, "broken", store=store_url)
    with pytest.raises(RuntimeError, match="loss went NaN"):
        _trainer(tmp_path, logger).fit(FailingModule(), _loader(), _loader())
    run = store.run(PROJECT, "broken")
    assert run.status == "failed"
    assert run.error == "RuntimeError: loss went NaN"
    steps, _ = store.history(PROJECT, "broken", "val/AP50")
    assert list(steps) == [1, 2]  # epoch 2 validated before on_train_epoch_end raised


@pytest.mark.slow
def test_validate_after_fit_resumes_the_run(
    tmp_path: Path, store_url: str, store: SQLStore
) -> None:
    logger = DetlabLogger(PROJECT, "again", store=store_url, step="global_step")
    trainer = _trainer(tmp_path, logger)
    module = TinyModule()
    trainer.fit(module, _loader(), _loader())
    trainer.validate(module, _loader())
    run = store.run(PROJECT, "again")
    assert run.status == "finished"
    history = store.history(PROJECT, "again", "val/AP50", all_segments=True)
    assert list(history.segments) == [0, 0, 1]  # validate() after fit(): a new segment
    assert history.steps[-1] == 8  # Lightning's own step: 2 epochs x 4 batches
    assert list(history.steps) == sorted(history.steps)


@pytest.mark.slow
def test_pytorch_lightning_trainer_takes_the_logger(
    tmp_path: Path, store_url: str, store: SQLStore
) -> None:
    pytorch_lightning = require("pytorch_lightning")  # installed with lightning

    class OldStyleModule(pytorch_lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)
            self.log("train/loss", loss, on_step=False, on_epoch=True)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05)

    trainer = pytorch_lightning.Trainer(
        max_epochs=EPOCHS,
        logger=DetlabLogger(PROJECT, "classic", store=store_url),
        default_root_dir=str(tmp_path),
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
    )
    trainer.fit(OldStyleModule(), _loader())
    assert store.run(PROJECT, "classic").status == "finished"
    assert list(store.history(PROJECT, "classic", "train/loss").steps) == [1, 2]
