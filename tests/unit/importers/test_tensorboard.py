"""TensorBoard event files read without TensorFlow: framing, CRCs, scalars, tags, restarts."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import tensorboard
from detlab.importers.model import ImportedRun
from detlab.importers.registry import discover
from detlab.importers.tfevents import crc32c, masked_crc32c, read_event_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "tensorboard"
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def _parse(path: Path) -> ImportedRun:
    (run,) = tensorboard.parse(path)
    return run


def _expected(folder: str) -> dict[str, list[list[object]]]:
    """What tensorboard's own protobuf classes read from each file (see the fixtures README)."""
    return json.loads((FIXTURES / folder / "expected_scalars.json").read_text())


def _record_offsets(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<Q", data, pos)[0]
    return offsets


def _torch_copy(tmp_path: Path) -> Path:
    (source,) = (FIXTURES / "torch").glob("events.out.tfevents.*")
    return Path(shutil.copy(source, tmp_path / source.name))


# ----------------------------------------------------------------- a tiny protobuf writer


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    key = _varint(number << 3 | wire)
    return key + (_varint(len(payload)) + payload if wire == 2 else payload)


def _event(step: int, tag: str, tensor: bytes) -> bytes:
    value = _field(1, 2, tag.encode()) + _field(8, 2, tensor)
    summary = _field(1, 2, value)
    return (
        _field(1, 1, struct.pack("<d", 1.7e9)) + _field(2, 0, _varint(step)) + _field(5, 2, summary)
    )


def _frame(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# ----------------------------------------------------------------- tests


def test_crc32c_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value


@pytest.mark.parametrize("folder", FOLDERS)
def test_scalars_equal_what_tensorboard_reads(folder: str) -> None:
    for name, rows in _expected(folder).items():
        problems: list = []
        read = read_event_file(FIXTURES / folder / name, problems)
        assert [[e.tag, e.step, e.value] for e in read.scalars] == rows
        assert problems == []


def test_ultralytics_events_best_value_and_epoch() -> None:
    run = _parse(FIXTURES / "ultralytics-train")
    # metrics/mAP50(B) at step 30 is 0.9218500256538391 (float32 of results.csv's 0.92185)
    assert run.best("val/AP50") == (0.9218500256538391, 30)
    assert run.best("val/mAP50(B)") == (0.9218500256538391, 30)
    assert run.best("val/AP") == (0.6652699708938599, 30)
    assert {"train/box_loss", "train/lr/pg0", "val/precision(B)"} <= set(run.metrics)
    assert run.restarts == []


def test_a_resumed_run_over_two_event_files_is_a_restart() -> None:
    run = _parse(FIXTURES / "ultralytics-resumed")
    assert [f.name for f in run.files] == [
        "events.out.tfevents.1796573467.vm.8719.0",
        "events.out.tfevents.1796573501.vm.9155.0",
    ]
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch) == (16, 13)
    assert "events.out.tfevents.1796573501.vm.9155.0 record 3" in restart.detail
    steps = [step for step, _ in run.metrics["train/box_loss"]]
    assert steps == [*range(1, 17), *range(14, 21)]


def test_mmengine_tags_get_canonical_names() -> None:
    run = _parse(FIXTURES / "mmengine")
    assert run.best("val/AP") == (0.3100000023841858, 2)
    assert run.best("val/AP50") == (0.49000000953674316, 2)
    assert run.best("val/coco/bbox_mAP_75") == (0.33000001311302185, 2)
    assert [step for step, _ in run.metrics["train/loss"]] == [50, 100, 150]


def test_lightning_hparams_and_tags() -> None:
    run = _parse(FIXTURES / "lightning")
    assert run.params == {"lr": 0.01, "batch_size": 8}
    assert set(run.metrics) == {"train/train_loss", "val/val_map"}
    assert run.best("val/val_map") == (pytest.approx(0.8), 4)


def test_new_style_tensor_scalars_from_torch() -> None:
    run = _parse(FIXTURES / "torch")  # lr was written with add_scalar(..., new_style=True)
    expected = [
        (step, value) for tag, step, value in _expected("torch").popitem()[1] if tag == "lr"
    ]
    assert run.metrics["train/lr"] == expected
    assert run.best("val/mAP50") == (0.41999998688697815, 5)


@pytest.mark.parametrize(
    ("tag", "key"),
    [
        ("train/box_loss", "train/box_loss"),
        ("val/loss", "val/loss"),
        ("metrics/mAP50(B)", "val/mAP50(B)"),
        ("coco/bbox_mAP", "val/coco/bbox_mAP"),
        ("bbox/AP50", "val/bbox/AP50"),
        ("val_loss", "val/val_loss"),
        ("valid/acc", "val/valid/acc"),
        ("test_map", "val/test_map"),
        ("loss", "train/loss"),
        ("lr/pg0", "train/lr/pg0"),
        ("train_loss", "train/train_loss"),
        ("validity", "train/validity"),
    ],
)
def test_tag_to_metric_key(tag: str, key: str) -> None:
    assert tensorboard.metric_key(tag) == key


def test_tf2_tensor_content_double_and_half_values(tmp_path: Path) -> None:
    scalar_shape = _field(2, 2, b"")  # TensorShapeProto without dims: a scalar
    float32 = _field(1, 0, _varint(1)) + scalar_shape + _field(4, 2, struct.pack("<f", 0.25))
    double = _field(1, 0, _varint(2)) + _field(6, 2, struct.pack("<d", 0.125))
    half = _field(1, 0, _varint(19)) + _field(13, 2, _varint(0x3800))  # 0.5 as float16 bits
    vector = _field(1, 0, _varint(1)) + _field(4, 2, struct.pack("<2f", 1, 2))
    text = _field(1, 0, _varint(7)) + _field(8, 2, b"hello")
    events = [
        _event(1, "coco/bbox_mAP", float32),
        _event(2, "coco/bbox_mAP", double),
        _event(3, "coco/bbox_mAP", half),
        _event(4, "histogram", vector),
        _event(5, "note", text),
        _event(6, "bbox/AP", float32),
    ]
    graph = _field(2, 0, _varint(7)) + _field(4, 2, b"\x0a\x03abc" * 50)  # a graph_def
    file = tmp_path / "events.out.tfevents.1.host.1.0"
    file.write_bytes(b"".join(_frame(e) for e in [graph, *events]))
    run = _parse(file)
    assert run.metrics["val/AP"] == [(1, 0.25), (2, 0.125), (3, 0.5), (6, 0.0025)]
    assert set(run.metrics) == {"val/coco/bbox_mAP", "val/bbox/AP", "val/AP"}


def test_data_crc_mismatch_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    file = _torch_copy(tmp_path)
    data = bytearray(file.read_bytes())
    offsets = _record_offsets(bytes(data))
    data[offsets[2] + 20] ^= 0xFF  # inside record 3's data
    file.write_bytes(bytes(data))
    run = _parse(file)
    (problem,) = run.problems
    assert (problem.severity, problem.file) == ("warning", str(file))
    assert problem.record == f"record 3 (byte offset {offsets[2]})"
    assert "data CRC mismatch" in problem.message
    assert sum(len(points) for points in run.metrics.values()) == 15 - 1


def test_length_crc_mismatch_resynchronises(tmp_path: Path) -> None:
    file = _torch_copy(tmp_path)
    data = bytearray(file.read_bytes())
    offsets = _record_offsets(bytes(data))
    data[offsets[4]] ^= 0x01  # record 5's length
    file.write_bytes(bytes(data))
    run = _parse(file)
    (problem,) = run.problems
    assert problem.record == f"record 5 (byte offset {offsets[4]})"
    assert "length CRC mismatch" in problem.message
    assert sum(len(points) for points in run.metrics.values()) == 15 - 1


def test_truncated_file_reports_its_last_record(tmp_path: Path) -> None:
    file = _torch_copy(tmp_path)
    data = file.read_bytes()
    offsets = _record_offsets(data)
    file.write_bytes(data[:-5])
    run = _parse(file)
    (problem,) = run.problems
    assert problem.record == f"record {len(offsets)} (byte offset {offsets[-1]})"
    assert "truncated" in problem.message
    assert run.best("val/mAP50") == (0.41999998688697815, 5)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"\x00garbage that is no TFRecord at all" * 3, "not a TensorBoard")],
)
def test_empty_or_garbage_file_is_an_error_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    file = tmp_path / "events.out.tfevents.1.host.1.0"
    file.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as caught:
        tensorboard.parse(tmp_path)
    assert str(file) in str(caught.value)


def test_detection_and_registry(tmp_path: Path) -> None:
    assert not tensorboard.detect(tmp_path)
    found = discover(FIXTURES)
    assert [(s.name, p.name) for s, p in found] == [("tensorboard", name) for name in FOLDERS]
