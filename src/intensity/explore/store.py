"""The results store: one SQLite file per space, one row per evaluated point.

Rows are committed as points finish, so a killed sweep loses nothing it finished and resumes by
skipping what is there. A writer holds the store's lock (`writing`, intensity.output.locked): a
second sweep into the same store gets a clear error at once, not a race; readers never wait. A
store that a failed command created is removed again (a failed command leaves no file). A file
that is not an intensity store (another database, a corrupt file), or a store of another space,
is refused with a clear error and never written. An accuracy outside 0..100 % is refused before
it is stored.

Schema (pandas reads it: `pd.read_sql('select * from results', sqlite3.connect(path))`):
  meta(key, value): format, schema, space (the space's spec as JSON)
  results(space, point, batch, dtype, device, evaluator, metrics JSON, version, created)

Schema 2 (estimates): a row's metrics may hold the estimate (estimate_*) beside the bound. The
metrics are JSON, so no table changes; a schema-1 store opened for writing is marked 2, and a
sweep gives its rows the estimate they lack (explore/sweep.py). A store of a newer schema than this
version knows is refused, never misread.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from intensity.output import locked, resolved_target

FORMAT = "intensity-results"
SCHEMA = "2"
_CREATE = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists results (
  space text not null, point text not null, batch integer not null, dtype text not null,
  device text not null, evaluator text not null, metrics text not null, version text not null,
  created real not null,
  primary key (point, batch, dtype, device, evaluator));
"""
BUSY_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Row:
    space: str
    point: str
    batch: int
    dtype: str
    device: str
    evaluator: str
    metrics: dict
    version: str

    def key(self) -> tuple:
        return (self.point, self.batch, self.dtype, self.device, self.evaluator)

    def flat(self) -> dict:
        """The row with its metrics as columns (for tables, CSV and frontiers)."""
        head = {"point": self.point, "batch": self.batch, "dtype": self.dtype, "device": self.device,
                "evaluator": self.evaluator}
        return {**head, **self.metrics}

    def with_metrics(self, metrics: dict) -> Row:
        """The same row with new metrics, written by this version (for `Store.update`)."""
        return dataclasses.replace(self, metrics=metrics, version=_version())


def _version() -> str:
    from intensity import __version__

    return __version__


class Store:
    """A results store bound to one space (`space_key`: the space's spec as JSON)."""

    def __init__(self, path: str | Path, space_key: str | None = None, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise ValueError(f"no results store at {self.path}; run `intensity sweep` with --store first")
        if self.path.is_dir():
            raise ValueError(f"store {self.path} is a directory; give a file such as results.db")
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if fresh and space_key is None:
            raise ValueError(f"{self.path} holds no results yet; run `intensity sweep` with --store first")
        self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            self.space = self._check(space_key) if not fresh else None
            self.conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("pragma journal_mode = wal")
            self.conn.execute("pragma synchronous = normal")
            if self.space is None:
                self.space = self._initialise(space_key)
        except Exception:
            self.conn.close()
            raise

    def _check(self, space_key: str | None) -> str:
        """The stored space; refuses foreign or unreadable files before anything is written."""
        try:
            meta = dict(self.conn.execute("select key, value from meta").fetchall())
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self.path} is not an intensity results store ({error}); it was left "
                             f"untouched: give another --store path") from None
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.path} is a database but not an intensity results store; it was "
                             f"left untouched: give another --store path")
        if space_key is not None and json.loads(meta["space"]) != json.loads(space_key):
            raise ValueError(f"{self.path} holds results of another space ({meta['space']}), not "
                             f"{space_key}; give another --store path")
        if _schema(meta.get("schema")) > int(SCHEMA):
            raise ValueError(f"{self.path} is a results store of schema {meta.get('schema')}, newer than this "
                             f"intensity's ({SCHEMA}); upgrade intensity to read it")
        if space_key is not None and _schema(meta.get("schema")) < int(SCHEMA):  # a writer migrates it
            self.conn.execute("update meta set value = ? where key = 'schema'", (SCHEMA,))
        return meta["space"]

    def _initialise(self, space_key: str) -> str:
        with self.transaction():
            for statement in filter(str.strip, _CREATE.split(";")):
                self.conn.execute(statement)
            self.conn.execute("insert or ignore into meta values ('format', ?), ('schema', ?), "
                              "('space', ?)", (FORMAT, SCHEMA, space_key))
        return self._check(space_key)

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def done(self, batch: int, dtype: str, device: str, evaluator: str) -> set[str]:
        """Points already stored for this batch, dtype, device and evaluator."""
        rows = self.conn.execute("select point from results where batch = ? and dtype = ? and "
                                 "device = ? and evaluator = ?", (batch, dtype, device, evaluator))
        return {point for (point,) in rows}

    def add(self, rows: Iterable[Row]) -> int:
        """Insert and commit `rows` together (a row already there is kept, not replaced)."""
        count, rows = 0, _checked(rows)
        with self.transaction():
            for row in rows:
                self.conn.execute("insert or ignore into results values (?,?,?,?,?,?,?,?,?)",
                                  (row.space, row.point, row.batch, row.dtype, row.device,
                                   row.evaluator, json.dumps(row.metrics), row.version, time.time()))
                count += 1
        return count

    def update(self, rows: Iterable[Row]) -> int:
        """Replace the metrics (and version) of stored rows together; rows not stored are an error."""
        count, rows = 0, _checked(rows)
        with self.transaction():
            for row in rows:
                changed = self.conn.execute(
                    "update results set metrics = ?, version = ? where point = ? and batch = ? and dtype = ? "
                    "and device = ? and evaluator = ?", (json.dumps(row.metrics), row.version, *row.key())).rowcount
                if changed != 1:
                    raise KeyError(f"no stored row for {row.key()} to update in {self.path}")
                count += 1
        return count

    def rows(self, **where: object) -> list[Row]:
        """All rows, or those matching `where` (batch=, dtype=, device=, evaluator=)."""
        clauses = [f"{k} = ?" for k, v in where.items() if v is not None]
        query = "select space, point, batch, dtype, device, evaluator, metrics, version from results"
        query += (" where " + " and ".join(clauses)) if clauses else ""
        values = [v for v in where.values() if v is not None]
        return [Row(s, p, b, d, dev, e, json.loads(m), v)
                for s, p, b, d, dev, e, m, v in self.conn.execute(query + " order by rowid", values)]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _schema(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 1  # the first stores wrote "1"; anything unreadable is read as the oldest


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): takes the write lock up front, so two
    writers wait for each other (busy timeout) instead of failing mid-transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("begin immediate")

    def __exit__(self, kind: object, *exc: object) -> None:
        self.conn.execute("rollback" if kind else "commit")


def open_store(path: str | Path) -> Store:
    """An existing store, for reading (its space is whatever it holds)."""
    return Store(path, None, create=False)


def check_accuracy(accuracy: object, point: str = "") -> None:
    """A top-1 accuracy in percent, 0..100 (a fraction or a typo must not be stored as a result)."""
    if accuracy is None:
        return
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 <= accuracy <= 100 \
            or math.isnan(accuracy):
        raise ValueError(f"`accuracy` {accuracy!r} of {point or 'a point'} is outside 0..100; give top-1 "
                         f"accuracy in percent (nothing was stored)")


@contextlib.contextmanager
def writing(path: str | Path, space_key: str) -> Iterator[Store]:
    """The store at `path` (created if new), locked against a second writer while the block runs.
    If the block fails, a store this call created, and that still holds no results, is removed."""
    path = Path(path)
    fresh, held = not path.exists(), False
    try:
        with locked(path, "results store"):
            held = True
            try:
                with Store(path, space_key) as store:
                    yield store
            except BaseException:
                if fresh:
                    remove_if_empty(path)
                raise
    finally:
        if held and fresh and not path.exists():  # nothing was kept: our lock file goes too
            _lock_file(path).unlink(missing_ok=True)


def _lock_file(path: Path) -> Path:
    """The sibling file intensity.output.locked holds for `path`."""
    target = resolved_target(path)
    return target.with_name(f".{target.name}.lock")


def remove_if_empty(path: str | Path) -> bool:
    """Delete a store (and its WAL/journal files) that holds no results; True if it was removed.
    A file that is not a store, or a store with rows, is left untouched."""
    try:
        with contextlib.closing(sqlite3.connect(Path(path))) as conn:
            empty = conn.execute("select count(*) from results").fetchone()[0] == 0
    except sqlite3.Error:
        return False
    if empty:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return empty


def select_rows(path: str | Path, **where: object) -> list[dict]:
    """The flat records of one setting of a store (filters: batch=, dtype=, device=, evaluator=).
    A store with no results, filters that match nothing (the message lists what is stored), or rows
    of several settings (the message lists how to choose one) are errors, never an empty answer."""
    with open_store(path) as store:
        rows = store.rows(**where)
        stored = rows or store.rows()
    if not stored:
        raise ValueError(f"no results in {path}; run `intensity sweep` with --store {path} first")
    if not rows:
        raise ValueError(f"{path} has no results matching the filters; it holds " + _held(stored))
    settings = sorted({(r.batch, r.dtype, r.device, r.evaluator) for r in rows})
    if len(settings) > 1:
        choices = "; ".join(f"--batch {b} --dtype {d} --device {v} --evaluator {e}" for b, d, v, e in settings)
        raise ValueError(f"{path} holds several settings; choose one with: {choices}")
    return [r.flat() for r in rows]


def all_records(path: str | Path) -> list[dict]:
    """Every row of a store as a flat record; a store without results is an error."""
    with open_store(path) as store:
        records = [r.flat() for r in store.rows()]
    if not records:
        raise ValueError(f"no results in {path}; run `intensity sweep` with --store {path} first")
    return records


def _held(rows: Sequence[Row]) -> str:
    def listed(values: set) -> str:
        return ", ".join(map(str, sorted(values)))

    return (f"batches {listed({r.batch for r in rows})}, devices {listed({r.device for r in rows})}, "
            f"dtypes {listed({r.dtype for r in rows})}, evaluators {listed({r.evaluator for r in rows})}")


def rows_frame(rows: Sequence[Row]):  # noqa: ANN201 (pandas is imported lazily)
    import pandas as pd

    return pd.DataFrame([r.flat() for r in rows])


def new_row(space_key: str, point: str, batch: int, dtype: str, device: str, evaluator: str,
            metrics: dict) -> Row:
    return Row(space_key, point, batch, dtype, device, evaluator, metrics, _version())


def _checked(rows: Iterable[Row]) -> list[Row]:
    """All rows, once every accuracy is checked: nothing is written if one is bad."""
    rows = list(rows)
    for row in rows:
        check_accuracy(row.metrics.get("accuracy"), row.point)
    return rows
