"""Documents by database, in memory, optionally written through to SQLite (``--state``).

Reads are served from memory either way, so a durable fake costs no more to query than
an in-memory one; every write also goes to SQLite in one small transaction, so a
restart loses nothing. Databases mirror Kazoo's: ``accounts``, one per account (with its
monthly-database documents), ``offnet`` for global resources and ``system`` for secrets.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from .util import json_copy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    db TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (db, id)
);
"""


class Store:
    """A tiny CouchDB: ``_id``/``_rev`` documents grouped by database and ``pvt_type``."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._dbs: dict[str, dict[str, dict[str, Any]]] = {}
        self._by_type: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._sql: sqlite3.Connection | None = None
        if path:
            self._sql = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._sql.execute("PRAGMA journal_mode=WAL")
            self._sql.execute("PRAGMA synchronous=NORMAL")
            self._sql.executescript(_SCHEMA)
            for db, doc_id, body in self._sql.execute("SELECT db, id, body FROM docs"):
                doc = json.loads(body)
                doc["_id"] = doc_id
                self._index(db, doc)

    # -- internals --------------------------------------------------------------------

    def _index(self, db: str, doc: dict[str, Any]) -> None:
        """Soft-deleted documents stay readable by id but leave the by-type index (lists skip them)."""
        docs = self._dbs.setdefault(db, {})
        old = docs.get(doc["_id"])
        if old is not None:
            self._by_type.get((db, old.get("pvt_type", "")), {}).pop(doc["_id"], None)
        docs[doc["_id"]] = doc
        if not doc.get("pvt_deleted"):
            self._by_type.setdefault((db, doc.get("pvt_type", "")), {})[doc["_id"]] = doc

    def _persist(self, db: str, doc: dict[str, Any]) -> None:
        if self._sql is not None:
            self._sql.execute(
                "INSERT OR REPLACE INTO docs (db, id, type, body) VALUES (?, ?, ?, ?)",
                (db, doc["_id"], doc.get("pvt_type", ""), json.dumps(doc, separators=(",", ":"))),
            )

    # -- API --------------------------------------------------------------------------

    def get(self, db: str, doc_id: str) -> dict[str, Any] | None:
        """A private copy of the document, or None."""
        with self._lock:
            doc = self._dbs.get(db, {}).get(doc_id)
            return json_copy(doc) if doc is not None else None

    def peek(self, db: str, doc_id: str) -> dict[str, Any] | None:
        """The stored document itself, read-only by convention (cheap lookups)."""
        return self._dbs.get(db, {}).get(doc_id)

    def save(self, db: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Store a copy of ``doc``; bump ``_rev`` the CouchDB way (``N-<32 hex>``).

        Returns the stored document itself: read-only by convention, like :meth:`peek`.
        """
        with self._lock:
            old = self._dbs.get(db, {}).get(doc["_id"])
            n = int(str(old["_rev"]).split("-", 1)[0]) + 1 if old and "_rev" in old else 1
            stored = json_copy(doc)
            stored["_rev"] = f"{n}-{os.urandom(16).hex()}"
            self._index(db, stored)
            self._persist(db, stored)
            return stored

    def delete(self, db: str, doc_id: str) -> None:
        with self._lock:
            doc = self._dbs.get(db, {}).pop(doc_id, None)
            if doc is not None:
                self._by_type.get((db, doc.get("pvt_type", "")), {}).pop(doc_id, None)
            if self._sql is not None:
                self._sql.execute("DELETE FROM docs WHERE db = ? AND id = ?", (db, doc_id))

    def of_type(self, db: str, pvt_type: str) -> list[dict[str, Any]]:
        """Stored, not soft-deleted documents of a type (not copies: callers must not mutate them)."""
        with self._lock:
            return list(self._by_type.get((db, pvt_type), {}).values())

    def databases(self) -> Iterator[str]:
        return iter(list(self._dbs))

    def close(self) -> None:
        if self._sql is not None:
            self._sql.close()
            self._sql = None
