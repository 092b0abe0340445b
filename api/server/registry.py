"""The registry: published packs and API keys in one SQLite database under ``--data-dir``.

- WAL journal and ``synchronous=FULL``: a version is on disk once its publish has answered,
  and a server killed mid-request loses nothing that was acknowledged.
- One ``BEGIN IMMEDIATE`` transaction per publish: ownership, immutability and the insert are
  checked and done together, so two racing publishers cannot both win.
- A version keeps the YAML exactly as sent, its SHA-256, its owner, visibility and time, the
  exact versions of the published packs it extends (``pins``, fixed at publish time so that a
  version means the same thing forever) and the warnings found when it was published.
- A version also keeps its *summary* (title, description, industry, locales and counts), made
  when it was compiled for publishing, so that listings and search never compile a pack.
- Per-owner quotas (packs, versions, stored bytes) are checked inside the publish transaction.
- Keys: only the SHA-256 of a token is stored; a token is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

DB_NAME = "registry.sqlite3"
TOKEN_PREFIX = "kpi_"
OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # whole string: use fullmatch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash   TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS packs (
    pack_id    TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    pack_id      TEXT NOT NULL REFERENCES packs(pack_id),
    version      TEXT NOT NULL,
    yaml         BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    owner        TEXT NOT NULL,
    visibility   TEXT NOT NULL,
    pins         TEXT NOT NULL,
    warnings     TEXT NOT NULL,
    published_at TEXT NOT NULL,
    summary      TEXT,
    PRIMARY KEY (pack_id, version)
);
"""
# databases made before summaries existed get the column (NULL: listed without title and counts)
_MIGRATIONS = ("ALTER TABLE versions ADD COLUMN summary TEXT",)


class NotOwner(Exception):
    """The pack belongs to another owner."""


class VersionConflict(Exception):
    """The version exists with other content."""


class QuotaExceeded(Exception):
    """Storing the version would take its owner past a quota; the message says which."""


@dataclass(frozen=True)
class Quotas:
    """What one owner may store (0 = no limit)."""

    packs: int = 0
    versions: int = 0
    bytes: int = 0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_key(version: str) -> tuple[int, Version | str]:
    """Sort key: newest first when sorted in reverse (unparseable versions sort last)."""
    try:
        return 1, Version(version)
    except InvalidVersion:
        return 0, version


@dataclass(frozen=True)
class VersionRecord:
    """One published version, without its YAML."""

    pack: str
    version: str
    sha256: str
    owner: str
    visibility: str
    published_at: str
    pins: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = field(default=None, compare=False)

    def readable_by(self, owner: str | None) -> bool:
        return self.visibility != "private" or self.owner == owner

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "version": self.version,
            "sha256": self.sha256,
            "owner": self.owner,
            "visibility": self.visibility,
            "published_at": self.published_at,
            "extends_pinned": dict(self.pins),
            "warnings": list(self.warnings),
        }


_COLUMNS = "pack_id, version, sha256, owner, visibility, published_at, pins, warnings, summary"


def _record(row: tuple[Any, ...]) -> VersionRecord:
    return VersionRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        json.loads(row[6]),
        json.loads(row[7]),
        json.loads(row[8]) if row[8] else None,
    )


class Registry:
    """Published packs and API keys, durable in ``<data_dir>/registry.sqlite3``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            have = {str(r[1]) for r in db.execute("PRAGMA table_info(versions)")}
            for statement in _MIGRATIONS:
                if statement.split()[-2] not in have:
                    db.execute(statement)
        # private packs' YAML lives here: readable by the server's user only
        for path in (self.path, data_dir / f"{DB_NAME}-wal", data_dir / f"{DB_NAME}-shm"):
            if path.exists():
                os.chmod(path, 0o600)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            yield db
        finally:
            db.close()

    # -- keys ---------------------------------------------------------------------------
    def create_key(self, owner: str) -> str:
        """A new token for ``owner``; only its hash is
        stored, so this is the only time it is seen."""
        if not OWNER.fullmatch(owner):
            raise ValueError(
                f"owner '{owner[:80]}' must be 1-64 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = hash_token(token)
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys (key_hash, key_id, owner, created_at) VALUES (?, ?, ?, ?)",
                (digest, digest[:12], owner, _now()),
            )
        return token

    def list_keys(self, owner: str | None = None) -> list[dict[str, str]]:
        """Keys (never their tokens): id, owner and creation time, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT key_id, owner, created_at FROM api_keys"
                + (" WHERE owner = ?" if owner else "")
                + " ORDER BY created_at, key_id",
                (owner,) if owner else (),
            ).fetchall()
        return [{"key_id": str(k), "owner": str(o), "created_at": str(t)} for k, o, t in rows]

    def revoke_key(self, key_id: str) -> bool:
        """Delete the key with this id; its token stops working at once. False if there is none."""
        with self._connect() as db:
            cur = db.execute("DELETE FROM api_keys WHERE key_id = ?", (key_id,))
        return cur.rowcount > 0

    def owner_of(self, token: str) -> str | None:
        """The owner a token belongs to, or None (the stored hash is compared in constant time)."""
        digest = hash_token(token)
        with self._connect() as db:
            row = db.execute(
                "SELECT key_hash, owner FROM api_keys WHERE key_hash = ?", (digest,)
            ).fetchone()
        if row is None or not hmac.compare_digest(str(row[0]), digest):
            return None
        return str(row[1])

    # -- packs --------------------------------------------------------------------------
    def pack_owner(self, pack: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT owner FROM packs WHERE pack_id = ?", (pack,)).fetchone()
        return None if row is None else str(row[0])

    def versions(self, pack: str) -> list[VersionRecord]:
        """Every version of a pack, newest first."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE pack_id = ?", (pack,)
            ).fetchall()
        return sorted(
            (_record(r) for r in rows), key=lambda r: version_key(r.version), reverse=True
        )

    def generation(self) -> str:
        """Changes whenever a version is stored (versions are never deleted or changed): a key
        under which anything derived from the list of versions may be cached."""
        with self._connect() as db:
            count, last = db.execute(
                "SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM versions"
            ).fetchone()
        return f"{count}.{last}"

    def readable(self, owner: str | None) -> dict[str, list[VersionRecord]]:
        """Every version ``owner`` may read (public ones and their own), by pack, newest first."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM versions WHERE visibility != 'private' OR owner = ?",
                (owner or "",),
            ).fetchall()
        out: dict[str, list[VersionRecord]] = {}
        for r in rows:
            rec = _record(r)
            out.setdefault(rec.pack, []).append(rec)
        for recs in out.values():
            recs.sort(key=lambda r: version_key(r.version), reverse=True)
        return dict(sorted(out.items()))

    def yaml(self, pack: str, version: str) -> bytes:
        with self._connect() as db:
            row = db.execute(
                "SELECT yaml FROM versions WHERE pack_id = ? AND version = ?", (pack, version)
            ).fetchone()
        if row is None:
            raise KeyError(f"{pack}@{version}")
        return bytes(row[0])

    def usage(self, owner: str) -> dict[str, int]:
        """What ``owner`` stores: packs, versions and bytes of YAML."""
        with self._connect() as db:
            return self._usage(db, owner)

    @staticmethod
    def _usage(db: sqlite3.Connection, owner: str) -> dict[str, int]:
        packs = db.execute("SELECT COUNT(*) FROM packs WHERE owner = ?", (owner,)).fetchone()[0]
        versions, size = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(yaml)), 0) FROM versions WHERE owner = ?",
            (owner,),
        ).fetchone()
        return {"packs": int(packs), "versions": int(versions), "bytes": int(size)}

    def publish(
        self, record: VersionRecord, text: bytes, quotas: Quotas | None = None
    ) -> tuple[VersionRecord, bool]:
        """Store a version in one transaction. Returns the stored record and whether it is new.

        The same content again is a no-op (the first record comes back); other content under an
        existing version raises :class:`VersionConflict`; a pack of another owner :class:`NotOwner`;
        a version that would take the owner past ``quotas`` :class:`QuotaExceeded`.
        """
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT owner FROM packs WHERE pack_id = ?", (record.pack,)
                ).fetchone()
                if row is not None and row[0] != record.owner:
                    raise NotOwner(record.pack)
                have = db.execute(
                    f"SELECT {_COLUMNS} FROM versions WHERE pack_id = ? AND version = ?",
                    (record.pack, record.version),
                ).fetchone()
                if have is not None:
                    existing = _record(have)
                    if existing.sha256 != record.sha256:
                        raise VersionConflict(existing.sha256)
                    db.execute("ROLLBACK")
                    return existing, False
                if quotas is not None:
                    _check_quotas(
                        self._usage(db, record.owner), quotas, new_pack=row is None, size=len(text)
                    )
                if row is None:
                    db.execute(
                        "INSERT INTO packs (pack_id, owner, created_at) VALUES (?, ?, ?)",
                        (record.pack, record.owner, record.published_at),
                    )
                db.execute(
                    "INSERT INTO versions (pack_id, version, yaml, sha256, owner, visibility, "
                    "pins, warnings, published_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.pack,
                        record.version,
                        text,
                        record.sha256,
                        record.owner,
                        record.visibility,
                        json.dumps(record.pins, sort_keys=True),
                        json.dumps(record.warnings, ensure_ascii=False),
                        record.published_at,
                        None
                        if record.summary is None
                        else json.dumps(record.summary, ensure_ascii=False),
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return record, True


def _check_quotas(used: dict[str, int], quotas: Quotas, *, new_pack: bool, size: int) -> None:
    if quotas.packs and new_pack and used["packs"] + 1 > quotas.packs:
        raise QuotaExceeded(
            f"you have {used['packs']:,} packs and the limit is {quotas.packs:,} per owner: "
            "publish a new version of an existing pack, or ask the operator for a larger quota"
        )
    if quotas.versions and used["versions"] + 1 > quotas.versions:
        raise QuotaExceeded(
            f"you have {used['versions']:,} versions stored and the limit is {quotas.versions:,} "
            "per owner: ask the operator for a larger quota"
        )
    if quotas.bytes and used["bytes"] + size > quotas.bytes:
        raise QuotaExceeded(
            f"you store {used['bytes']:,} bytes of packs; this version ({size:,} bytes) would pass "
            f"the limit of {quotas.bytes:,} bytes per owner: make the pack smaller, or ask the "
            "operator for a larger quota"
        )


def new_record(
    pack: str,
    version: str,
    text: bytes,
    owner: str,
    visibility: str,
    pins: dict[str, str],
    warnings: list[dict[str, Any]],
    summary: dict[str, Any] | None = None,
) -> VersionRecord:
    return VersionRecord(
        pack, version, content_hash(text), owner, visibility, _now(), pins, warnings, summary
    )
