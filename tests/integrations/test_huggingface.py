"""A real Hugging Face ``Trainer``: a tiny model, 2 epochs, evaluation each epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.store.sql.store import SQLStore
from tests.integrations.frameworks import require

transformers = require("transformers")
torch = require("torch")

from detlab.sdk.integrations.huggingface import DetlabCallback  # noqa: E402

PROJECT = "hf-live"
EPOCHS = 2


class TinyConfig(transformers.PretrainedConfig):
    model_type = "detlab-tiny"

    def __init__(self, hidden: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden = hidden


class TinyModel(transformers.PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        self.linear = torch.nn.Linear(config.hidden, 1)
        self.post_init()

    def forward(self, inputs=None, labels=None):
        out = self.linear(inputs).squeeze(-1)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


class Pairs(torch.utils.data.Dataset):
    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(16, 2, generator=generator)
        self.y = self.x @ torch.tensor([1.5, -2.0])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"inputs": self.x[i], "labels": self.y[i]}


def _metrics(prediction) -> dict[str, float]:
    error = float(((prediction.predictions - prediction.label_ids) ** 2).mean())
    return {"map": 0.5 / (1.0 + error), "map_50": 1.0 / (1.0 + error)}


@pytest.mark.slow
def test_training_lands_in_the_store(tmp_path: Path, store_url: str, store: SQLStore) -> None:
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=8,
        learning_rate=0.05,
        eval_strategy="epoch",
        logging_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="map_50",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    callback = DetlabCallback(PROJECT, "tiny", store=store_url, tags=["ci"])
    trainer = transformers.Trainer(
        model=TinyModel(TinyConfig()),
        args=args,
        train_dataset=Pairs(),
        eval_dataset=Pairs(),
        compute_metrics=_metrics,
        callbacks=[callback],
    )
    trainer.train()

    run = store.run(PROJECT, "tiny")
    assert run.status == "finished"
    assert run.tags == ("ci",)
    assert run.params["num_train_epochs"] == EPOCHS
    assert run.params["model.hidden"] == 2

    keys = set(store.metric_keys(PROJECT, "tiny"))
    assert {"train/loss", "train/learning_rate", "val/loss", "val/map_50", "val/AP50"} <= keys
    assert {"val/AP", "val/map"} <= keys
    assert not {k for k in keys if k.startswith("train/train_")}  # the end-of-training summary
    for key in ("train/loss", "val/AP50", "val/loss"):
        steps, _ = store.history(PROJECT, "tiny", key)
        assert list(steps) == [1, 2], key  # 1-based epochs
    _, ap50 = store.history(PROJECT, "tiny", "val/AP50")
    _, own = store.history(PROJECT, "tiny", "val/map_50")
    assert list(ap50) == list(own)

    artifacts = store.children(PROJECT, "tiny")["artifacts"]
    best = Path(trainer.state.best_model_checkpoint).name
    names = {a.uri.rstrip("/").rsplit("/", 1)[-1] for a in artifacts}
    assert names == {best, "checkpoint-8"}  # 4 batches an epoch
    assert all(a.kind == "checkpoint" for a in artifacts)

    trainer.evaluate()  # after train(): reattached, in a new segment
    history = store.history(PROJECT, "tiny", "val/AP50", all_segments=True)
    assert list(history.segments) == [0, 0, 1]
    assert store.run(PROJECT, "tiny").status == "finished"
