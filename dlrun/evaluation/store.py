"""The result store: every finished (algorithm, view, fold) fit, persisted at once.

A SQLite database in the project's ``.dlrun/`` folder. Each result -- scores,
fit time, what the model recorded (a net's training curves) and its
out-of-fold predictions (test rows, predictions, class probabilities; a
compressed NumPy archive) -- is committed in one statement the moment it
arrives, so an interrupted run keeps everything it finished and never half a
result. SQLite's locking makes a second concurrent run on the same project
safe (both may compute a job; the store keeps one answer per key).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    view TEXT NOT NULL,
    fold TEXT NOT NULL,
    metrics TEXT NOT NULL,
    fit_seconds REAL NOT NULL,
    extra TEXT,
    created REAL NOT NULL,
    predictions BLOB
);
"""


#: How long opening the store waits for another process that holds its lock.
LOCK_WAIT_SECONDS = 60.0


def _locked(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class ResultStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        # Switching a new database to WAL takes an exclusive lock, and SQLite answers
        # "database is locked" at once (without its busy wait) when two processes open a
        # new store together: retry for as long as the busy wait would have waited.
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(SCHEMA)
                columns = {row[1] for row in self._conn.execute("PRAGMA table_info(results)")}
                if "predictions" not in columns:  # a store written before predictions were kept
                    self._conn.execute("ALTER TABLE results ADD COLUMN predictions BLOB")
                break
            except sqlite3.OperationalError as err:
                if not _locked(err) or time.monotonic() > deadline:
                    self._conn.close()
                    raise
                time.sleep(0.05)

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, metrics, fit_seconds, extra FROM results WHERE key IN ({marks})", chunk
            )
            for key, metrics, fit_seconds, extra in rows:
                out[key] = {
                    "metrics": json.loads(metrics),
                    "fit_seconds": fit_seconds,
                    "extra": json.loads(extra) if extra else {},
                }
        return out

    def put(self, key: str, algorithm: str, view: str, fold: str, metrics: dict, fit_seconds: float,
            extra: dict | None = None, predictions=None) -> None:
        """Store one result; ``predictions`` is a :class:`dlrun.evaluation.jobs.Prediction`."""
        blob = predictions.to_bytes() if predictions is not None else None
        self._conn.execute(
            "INSERT OR REPLACE INTO results (key, algorithm, view, fold, metrics, fit_seconds, extra, "
            "created, predictions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, algorithm, view, fold, json.dumps(metrics), float(fit_seconds),
             json.dumps(_plain(extra or {})), time.time(), blob),
        )

    def predictions(self, keys: list[str]) -> dict:
        """The stored out-of-fold predictions of these jobs (key -> Prediction)."""
        from dlrun.evaluation.jobs import Prediction

        out = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, predictions FROM results WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                if blob is not None:
                    out[key] = Prediction.from_bytes(blob)
        return out

    def count(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _plain(value):
    """JSON-ready copy: NumPy numbers and arrays as Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
