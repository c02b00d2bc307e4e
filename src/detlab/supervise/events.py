"""Reading what the training script's SDK tells the supervisor (``detlab.sdk.supervision``).

The script appends JSON lines to one file; the supervisor reads what is new since its last
look. A line still being written (no newline yet) waits for the next look; a line that is not
JSON is skipped, since a stray write must never stop the supervision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EventLog"]


@dataclass
class EventLog:
    """The events file and what has been read of it."""

    path: Path
    checkpoints: list[tuple[str, int]] = field(default_factory=list)
    _offset: int = 0

    def read_new(self) -> list[dict[str, Any]]:
        """Events appended since the last call; checkpoints are also kept in ``checkpoints``."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        events = [event for line in complete.splitlines() if (event := _parse(line))]
        self.checkpoints.extend(
            (str(e["path"]), int(e["epoch"])) for e in events if _is_checkpoint(e)
        )
        return events


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None


def _is_checkpoint(event: dict[str, Any]) -> bool:
    return (
        event["event"] == "checkpoint"
        and isinstance(event.get("path"), str)
        and isinstance(event.get("epoch"), int)
    )
