"""TensorBoard event files read without TensorFlow: TFRecord framing and the scalar fields of
the ``Event`` protobuf.

An event file is a sequence of TFRecords::

    uint64 length | uint32 masked CRC32C of length | data[length] | uint32 masked CRC32C of data

(little-endian), each ``data`` one serialized ``Event``. Only the fields that carry scalars are
decoded from the protobuf wire format: ``Event.wall_time`` (1, double), ``Event.step`` (2,
int64), ``Event.summary`` (5) -> ``Summary.value`` (1, repeated) -> ``Value.tag`` (1),
``Value.simple_value`` (2, float) or ``Value.tensor`` (8) -> ``TensorProto`` ``dtype`` (1),
``tensor_shape`` (2), ``tensor_content`` (4), ``float_val`` (5), ``double_val`` (6),
``half_val`` (13). That covers ``SummaryWriter.add_scalar`` (both styles), Lightning,
Ultralytics, mmengine and TF2's ``tf.summary.scalar``. Every other field is skipped by its wire
type; a tensor with more than one element is not a scalar and is left out.

Both CRCs are checked. A record whose data CRC fails is reported and skipped; one whose length
CRC fails cannot be trusted to say where the next record starts, so reading resumes at the next
offset where a length and its CRC agree. A file cut short reports its last record. Problems
name the record by number (1-based) and byte offset.

>>> masked_crc32c(b"")
2726488792
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from detlab.errors import InvalidInputError, Problem

__all__ = ["EventFile", "ScalarEvent", "crc32c", "masked_crc32c", "read_event_file"]

_HEADER = 12  # length (8) + its CRC (4)
_FOOTER = 4  # data CRC


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord uses."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@dataclass(frozen=True)
class ScalarEvent:
    """One scalar: ``tag`` at ``step``, from record ``record`` of the file named ``file``."""

    tag: str
    step: int
    value: float
    wall_time: float
    record: int
    file: str = ""


@dataclass
class EventFile:
    """What one event file held: its scalars and how many records were sound."""

    path: Path
    scalars: list[ScalarEvent]
    good_records: int
    size: int


@dataclass(frozen=True)
class _Record:
    number: int
    offset: int
    data: bytes


def read_event_file(path: Path, problems: list[Problem]) -> EventFile:
    """Every scalar of ``path``; bad records go to ``problems`` as warnings."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the file ({exc.strerror})") from exc
    scalars: list[ScalarEvent] = []
    good = 0
    for record in _records(path, data, problems):
        good += 1
        try:
            scalars.extend(_decode_event(record, path.name))
        except ValueError as exc:
            problems.append(_problem(path, record.number, record.offset, f"{exc}; record skipped"))
    return EventFile(path, scalars, good, len(data))


def _problem(path: Path, number: int, offset: int, message: str) -> Problem:
    return Problem("warning", str(path), f"record {number} (byte offset {offset})", "", message)


# --------------------------------------------------------------------------- TFRecord framing


def _records(path: Path, data: bytes, problems: list[Problem]) -> Iterator[_Record]:
    pos, number = 0, 0
    while pos < len(data):
        number += 1
        if len(data) - pos < _HEADER:
            problems.append(_problem(path, number, pos, "truncated: the file ends in its header"))
            return
        length = _length_at(data, pos)
        if length is None:
            problems.append(_problem(path, number, pos, "length CRC mismatch; resynchronising"))
            resumed = _resync(data, pos + 1)
            if resumed is None:
                return
            pos = resumed
            continue
        end = pos + _HEADER + length + _FOOTER
        if end > len(data):
            missing = end - len(data)
            message = f"truncated: {length} data bytes declared, {missing} byte(s) missing"
            problems.append(_problem(path, number, pos, message))
            return
        payload = data[pos + _HEADER : end - _FOOTER]
        if masked_crc32c(payload) != struct.unpack_from("<I", data, end - _FOOTER)[0]:
            problems.append(_problem(path, number, pos, "data CRC mismatch; record skipped"))
        else:
            yield _Record(number, pos, payload)
        pos = end


def _length_at(data: bytes, pos: int) -> int | None:
    """The record length at ``pos`` when its CRC agrees, else ``None``."""
    header = data[pos : pos + 8]
    if len(header) < 8 or len(data) - pos < _HEADER:
        return None
    if masked_crc32c(header) != struct.unpack_from("<I", data, pos + 8)[0]:
        return None
    return int(struct.unpack("<Q", header)[0])


def _resync(data: bytes, start: int) -> int | None:
    """The next offset holding a length whose CRC agrees and that fits in the file."""
    for pos in range(start, len(data) - _HEADER + 1):
        length = _length_at(data, pos)
        if length is not None and pos + _HEADER + length + _FOOTER <= len(data):
            return pos
    return None


# --------------------------------------------------------------------------- protobuf wire format

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_FieldValue = int | bytes


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("not a valid Event protobuf (varint runs past its end)")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, _FieldValue]]:
    """``(field number, wire type, value)``: an int for varints, bytes for everything else."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: _FieldValue
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire in (_FIXED64, _FIXED32, _BYTES):
            if wire == _BYTES:
                size, pos = _varint(buf, pos)
            else:
                size = 8 if wire == _FIXED64 else 4
            if pos + size > len(buf):
                raise ValueError(f"not a valid Event protobuf (field {number} runs past its end)")
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"not a valid Event protobuf (wire type {wire} in field {number})")
        yield number, wire, value


def _decode_event(record: _Record, file: str) -> list[ScalarEvent]:
    wall_time, step, summaries = 0.0, 0, []
    for number, wire, value in _fields(record.data):
        if number == 1 and wire == _FIXED64 and isinstance(value, bytes):
            wall_time = struct.unpack("<d", value)[0]
        elif number == 2 and wire == _VARINT and isinstance(value, int):
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 5 and wire == _BYTES and isinstance(value, bytes):
            summaries.append(value)
    events = []
    for summary in summaries:
        for number, wire, value in _fields(summary):
            if number == 1 and wire == _BYTES and isinstance(value, bytes):
                tagged = _decode_value(value)
                if tagged is not None:
                    tag, number_value = tagged
                    events.append(
                        ScalarEvent(tag, step, number_value, wall_time, record.number, file)
                    )
    return events


def _decode_value(buf: bytes) -> tuple[str, float] | None:
    """``Summary.Value`` as ``(tag, number)`` when it holds a scalar."""
    tag, number_value = "", None
    for number, wire, value in _fields(buf):
        if number == 1 and isinstance(value, bytes):
            tag = value.decode("utf-8", errors="replace")
        elif number == 2 and wire == _FIXED32 and isinstance(value, bytes):
            number_value = float(struct.unpack("<f", value)[0])
        elif number == 8 and wire == _BYTES and isinstance(value, bytes):
            number_value = _tensor_scalar(value)
    return (tag, number_value) if tag and number_value is not None else None


# DataType enum values of the float types, with their struct formats
_FLOAT_FORMATS = {1: "<f", 2: "<d", 19: "<e"}  # DT_FLOAT, DT_DOUBLE, DT_HALF


def _tensor_scalar(buf: bytes) -> float | None:
    """The value of a one-element float ``TensorProto``, else ``None``."""
    dtype, elements, values = 0, 1, []
    for number, wire, value in _fields(buf):
        if number == 1 and isinstance(value, int):
            dtype = value
        elif number == 2 and isinstance(value, bytes):
            elements = _shape_elements(value)
        elif number == 4 and isinstance(value, bytes):
            values.extend(_unpack_all(value, _FLOAT_FORMATS.get(dtype)))
        elif number in (5, 6):  # float_val, double_val (packed or not)
            values.extend(_unpack_repeated(value, wire, "<f" if number == 5 else "<d"))
        elif number == 13:  # half_val: the 16 bits of each value as int32 varints
            values.extend(_halves(value, wire))
    if dtype not in _FLOAT_FORMATS or elements != 1 or len(values) != 1:
        return None
    return values[0]


def _shape_elements(buf: bytes) -> int:
    elements = 1
    for number, _, dim in _fields(buf):
        if number == 2 and isinstance(dim, bytes):
            for field, _, size in _fields(dim):
                if field == 1 and isinstance(size, int):
                    elements *= size
    return elements


def _unpack_all(buf: bytes, fmt: str | None) -> list[float]:
    if fmt is None:
        return []
    size = struct.calcsize(fmt)
    if len(buf) % size:
        raise ValueError(f"not a valid Event protobuf (tensor_content of {len(buf)} bytes)")
    return [float(v[0]) for v in struct.iter_unpack(fmt, buf)]


def _unpack_repeated(value: _FieldValue, wire: int, fmt: str) -> list[float]:
    if not isinstance(value, bytes):
        return []
    if wire == _BYTES:
        return _unpack_all(value, fmt)
    return [float(struct.unpack(fmt, value)[0])]


def _halves(value: _FieldValue, wire: int) -> list[float]:
    if isinstance(value, int):
        bits = [value]
    else:
        bits, pos = [], 0
        while pos < len(value):
            half, pos = _varint(value, pos)
            bits.append(half)
    return [float(struct.unpack("<e", (b & 0xFFFF).to_bytes(2, "little"))[0]) for b in bits]
