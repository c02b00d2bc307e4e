"""The background writer: ``run.log`` appends to a buffer, a thread inserts it in batches.

The buffer is flushed at least every ``interval`` seconds, when it grows past ``max_rows``, on
``flush()`` and on ``close()``. A process killed with SIGKILL loses at most the points of the
last interval; each batch is one transaction, so the store never holds half a batch. A batch
that fails to write (the database unreachable for a moment) goes back to the front of the
buffer and is tried again; the error is kept for ``close()`` to report.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from detlab.store.sql.writes import MetricBatchRow

__all__ = ["DEFAULT_INTERVAL_S", "MetricWriter"]

DEFAULT_INTERVAL_S = 1.0
logger = logging.getLogger(__name__)

WriteBatch = Callable[[Sequence[MetricBatchRow]], None]


class MetricWriter:
    """Buffers metric rows and writes them with ``write`` from a daemon thread."""

    def __init__(
        self, write: WriteBatch, *, interval: float = DEFAULT_INTERVAL_S, max_rows: int = 20_000
    ) -> None:
        self._write = write
        self._interval = interval
        self._max_rows = max_rows
        self._buffer: list[MetricBatchRow] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self.error: BaseException | None = None
        self.written = 0
        self._thread: threading.Thread | None = None

    def append(self, rows: list[MetricBatchRow]) -> None:
        if self._thread is None:  # started by the first point: a run that logs none needs none
            self._thread = threading.Thread(target=self._loop, name="detlab-writer", daemon=True)
            self._thread.start()
        with self._lock:
            self._buffer.extend(rows)
            full = len(self._buffer) >= self._max_rows
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush(raise_errors=False)

    def flush(self, *, raise_errors: bool = True) -> None:
        """Write everything buffered now; with ``raise_errors``, a failed write raises."""
        with self._flush_lock:
            with self._lock:
                rows, self._buffer = self._buffer, []
            if not rows:
                return
            try:
                self._write(rows)
            except Exception as exc:
                self._requeue(rows, exc)
                if raise_errors:
                    raise
            else:
                self.written += len(rows)
                self.error = None

    def _requeue(self, rows: list[MetricBatchRow], exc: BaseException) -> None:
        with self._lock:
            self._buffer[:0] = rows
        if self.error is None:
            logger.warning(
                "detlab: writing %d metric points failed, will retry: %s", len(rows), exc
            )
        self.error = exc

    def close(self) -> None:
        """Stop the thread and write what is left (raising if that fails)."""
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.flush()
