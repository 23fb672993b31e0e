"""The result store: every finished (algorithm, view, fold) fit, persisted at once.

A SQLite database in the project's ``.dlrun/`` folder. Each result -- scores,
fit time, what the model recorded (a net's training curves) and its
out-of-fold predictions (test rows, predictions, class probabilities; a
compressed NumPy archive) -- is committed in one statement the moment it
arrives, so an interrupted run keeps everything it finished and never half a
result. SQLite's locking makes a second concurrent run on the same project
safe, and they share the work: before computing a job an evaluation *claims* it
(:meth:`ResultStore.claim`); a job another live process has claimed is left to
it and its result read from the store once it is there, so two evaluations
started together compute each fit once between them.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
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
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    since REAL NOT NULL
);
"""


#: How long opening the store waits for another process that holds its lock.
LOCK_WAIT_SECONDS = 60.0


def _locked(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class ResultStore:
    """The store at ``path``. A damaged file (not a SQLite database, or failing SQLite's
    integrity check) is moved aside to ``results.sqlite.damaged-TIME`` and a fresh store
    is started; ``damaged`` then names where it went (the caller says so to the user):
    the fits are recomputed, nothing else is lost."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.damaged: Path | None = None
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.RLock()  # a pool's dispatch thread claims jobs too
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and _locked(err):
                raise
            self.damaged = self._move_aside()
            self._open()

    def _open(self) -> None:
        self._conn = sqlite3.connect(str(self.path), timeout=LOCK_WAIT_SECONDS, isolation_level=None,
                                     check_same_thread=False)
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
                self._conn.execute("SELECT COUNT(*) FROM results").fetchone()
                break
            except sqlite3.OperationalError as err:
                if not _locked(err) or time.monotonic() > deadline:
                    self._conn.close()
                    raise
                time.sleep(0.05)
            except sqlite3.DatabaseError:
                self._conn.close()
                raise

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(target.with_name(target.name + suffix))
        return target

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        with self._lock:
            return self._get_many(keys)

    def _get_many(self, keys: list[str]) -> dict[str, dict]:
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
        """Store one result (and drop this store's claim on it) in one transaction;
        ``predictions`` is a :class:`dlrun.evaluation.jobs.Prediction`."""
        blob = predictions.to_bytes() if predictions is not None else None
        with self._lock, self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO results (key, algorithm, view, fold, metrics, fit_seconds, "
                "extra, created, predictions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, algorithm, view, fold, json.dumps(metrics), float(fit_seconds),
                 json.dumps(_plain(extra or {})), time.time(), blob),
            )
            self._conn.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, self.owner))

    def _transaction(self):
        store = self

        class _Tx:
            def __enter__(self):
                store._conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, value, tb):
                store._conn.execute("ROLLBACK" if kind else "COMMIT")

        return _Tx()

    # -- sharing the work between concurrent evaluations --------------------------------
    def claim(self, keys: list[str]) -> tuple[list[str], list[str]]:
        """Claim the jobs no live process holds and nobody finished; returns (the keys now
        this store's to compute, the keys left to others: held by them, or done)."""
        if not keys:
            return [], []
        now, pid, host = time.time(), os.getpid(), socket.gethostname()
        with self._lock, self._transaction():
            done: set[str] = set()
            held: dict[str, tuple] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                done |= {k for (k,) in self._conn.execute(
                    f"SELECT key FROM results WHERE key IN ({marks})", chunk)}
                for row in self._conn.execute(
                        f"SELECT key, owner, pid, host, since FROM claims WHERE key IN ({marks})", chunk):
                    held[row[0]] = row[1:]
            mine, others = [], []
            for key in keys:
                claim = held.get(key)
                if key in done or (claim and claim[0] != self.owner and _alive(*claim[1:])):
                    others.append(key)
                else:
                    mine.append(key)
            self._conn.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                                   [(k, self.owner, pid, host, now) for k in mine])
        return mine, others

    def release(self) -> None:
        """Drop every claim of this store (an evaluation ends, finished or not)."""
        with self._lock:
            self._conn.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))

    def predictions(self, keys: list[str]) -> dict:
        """The stored out-of-fold predictions of these jobs (key -> Prediction)."""
        from dlrun.evaluation.jobs import Prediction

        out = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT key, predictions FROM results WHERE key IN ({marks})", chunk).fetchall()
            for key, blob in rows:
                if blob is not None:
                    out[key] = Prediction.from_bytes(blob)
        return out

    def count(self) -> int:
        with self._lock:
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


#: A claim from another machine is trusted this long (its process cannot be checked).
REMOTE_CLAIM_SECONDS = 6 * 3600


def _alive(pid: int, host: str, since: float) -> bool:
    """Whether the process that made a claim may still be computing it."""
    if host != socket.gethostname():
        return time.time() - since < REMOTE_CLAIM_SECONDS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
