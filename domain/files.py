"""Where file bytes live: one small interface, the database by default, or a directory every node mounts.

Several web processes on several machines serve one province, so a file uploaded through one must be
readable through any other. The database store keeps the bytes in the same transaction as the record
that names them: a rolled-back upload leaves nothing behind and a backup holds the files too. A
directory store is for a shared mount (NFS and the like) when the database should not grow with files;
it writes under a random name and removes the file again if the recording transaction rolls back.
"""

import os
import re
import secrets
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.base import Base

_KEY = re.compile(r"[0-9a-f]{32}")
DIRECTORY_PREFIX = "directory:"


class FileNotStored(LookupError):
    """No file under this key (or the key is not one a store makes)."""


class StoredFile(Base):
    """The bytes of one file kept by the database store."""

    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    size: Mapped[int]
    stored_at: Mapped[datetime]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only when a file is sent


class FileStore(Protocol):
    """Keeps bytes under a key it makes; every call joins the caller's session and transaction."""

    def put(self, session: Session, data: bytes) -> str: ...

    def read(self, session: Session, key: str) -> bytes: ...

    def remove(self, session: Session, key: str) -> None: ...


def new_key() -> str:
    return secrets.token_hex(16)


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key or ""):
        raise FileNotStored(key)
    return key


class DatabaseFileStore:
    """Bytes in the `stored_file` table, written and rolled back with the record that names them."""

    def put(self, session: Session, data: bytes) -> str:
        key = new_key()
        session.add(StoredFile(key=key, size=len(data), stored_at=datetime.now(UTC), data=data))
        session.flush()
        return key

    def read(self, session: Session, key: str) -> bytes:
        row = session.get(StoredFile, _checked(key))
        if row is None:
            raise FileNotStored(key)
        return row.data

    def remove(self, session: Session, key: str) -> None:
        row = session.get(StoredFile, _checked(key))
        if row is not None:
            session.delete(row)

    def __repr__(self) -> str:
        return "DatabaseFileStore()"


class DirectoryFileStore:
    """Bytes in files under one directory (a mount every node shares), named by their random key."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def put(self, session: Session, data: bytes) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = new_key()
        partial = self.directory / f".{key}.part"
        partial.write_bytes(data)
        os.replace(partial, self.directory / key)  # readers never see half a file
        self._remove_on_rollback(session, key)
        return key

    def read(self, session: Session, key: str) -> bytes:
        try:
            return (self.directory / _checked(key)).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as missing:
            raise FileNotStored(key) from missing

    def remove(self, session: Session, key: str) -> None:
        if _KEY.fullmatch(key or ""):
            (self.directory / key).unlink(missing_ok=True)

    def _remove_on_rollback(self, session: Session, key: str) -> None:
        """Delete the file should the transaction that records it roll back; keep it once committed."""
        state = {"pending": True}

        @event.listens_for(session, "after_commit")
        def _keep(committed: Session) -> None:
            if not committed.in_nested_transaction():
                state["pending"] = False

        @event.listens_for(session, "after_soft_rollback")
        def _remove(_session, previous) -> None:
            if state["pending"] and previous.parent is None:  # the outermost transaction, not a SAVEPOINT
                state["pending"] = False
                self.remove(session, key)

    def __repr__(self) -> str:
        return f"DirectoryFileStore({str(self.directory)!r})"


def file_store(setting: str) -> FileStore:
    """Return the store a FILE_STORE setting names: "database", or "directory:/a/shared/mount"."""
    setting = (setting or "database").strip()
    if setting == "database":
        return DatabaseFileStore()
    if setting.startswith(DIRECTORY_PREFIX) and setting[len(DIRECTORY_PREFIX) :].strip():
        return DirectoryFileStore(setting[len(DIRECTORY_PREFIX) :].strip())
    raise ValueError(
        f"FILE_STORE must be 'database' or 'directory:<a folder every node mounts>', not {setting!r}"
    )
