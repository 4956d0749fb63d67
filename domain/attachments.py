"""Files attached to a process: the record and the upload rules; the bytes go to a FileStore."""

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.users import Actor
from domain.base import Base
from domain.files import FileNotStored
from domain.files import FileStore
from domain.refusals import Refusal

MAX_BYTES = 10 * 1024 * 1024


class Attachment(Base):
    """One uploaded file of a process instance; its bytes are kept by the file store under `stored_name`."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int]  # process_instance.id; no foreign key: the domain knows no engine tables
    human_task_id: Mapped[int | None]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(32), unique=True)
    uploaded_by_id: Mapped[int | None]
    uploaded_by_name: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


@dataclass(frozen=True)
class AttachmentView:
    """What pages show and downloads need of an attachment."""

    id: int
    instance_id: int
    human_task_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    stored_name: str
    uploaded_by_name: str
    uploaded_at: datetime


@dataclass(frozen=True)
class Upload:
    """A file that passed the upload rules, ready to store."""

    filename: str
    content_type: str
    data: bytes
    sha256: str


class AttachmentRefused(Refusal):
    """An upload broke a rule; `code` is file_empty, file_too_big, file_type or file_content."""


class AttachmentNotFound(LookupError):
    """No such attachment (or its file is gone)."""


def _zip_holding(member: str) -> Callable[[bytes], bool]:
    """Say whether the bytes are an Office Open XML package with this part (a renamed zip is not)."""

    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:  # reads the central directory only; nothing is decompressed
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, ValueError, EOFError, OSError):
            return False
        return "[Content_Types].xml" in names and member in names

    return check


def _starts_with(magic: bytes) -> Callable[[bytes], bool]:
    return lambda data: data.startswith(magic)


_JPEG = ("image/jpeg", _starts_with(b"\xff\xd8\xff"))
KINDS: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "pdf": ("application/pdf", _starts_with(b"%PDF-")),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "png": ("image/png", _starts_with(b"\x89PNG\r\n\x1a\n")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _zip_holding("word/document.xml"),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _zip_holding("xl/workbook.xml"),
    ),
}
ALLOWED_EXTENSIONS = tuple(KINDS)


def clean_filename(raw: str) -> str:
    """Return the name to show and send back: its last path part, no control characters, ≤ 255 chars."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 255:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name or "attachment"


def check_upload(raw_name: str, data: bytes, max_bytes: int = MAX_BYTES) -> Upload:
    """Return the upload if it is not empty, not too big, of an allowed type and really of that type."""
    filename = clean_filename(raw_name)
    if not data:
        raise AttachmentRefused("file_empty", name=filename)
    if len(data) > max_bytes:
        limit = f"{max_bytes / 2**20:g}"
        raise AttachmentRefused("file_too_big", name=filename, limit=limit)
    extension = PurePosixPath(filename).suffix.lower().lstrip(".")
    if extension not in KINDS:
        raise AttachmentRefused(
            "file_type",
            name=filename,
            allowed=", ".join(ALLOWED_EXTENSIONS),
        )
    content_type, matches = KINDS[extension]
    if not matches(data):
        raise AttachmentRefused("file_content", name=filename, kind=extension.upper())
    return Upload(filename, content_type, data, hashlib.sha256(data).hexdigest())


def add_attachment(
    session: Session,
    store: FileStore,
    upload: Upload,
    instance_id: int,
    human_task_id: int | None,
    uploader: Actor,
    now: datetime,
) -> AttachmentView:
    """Store the file and record it, both in the caller's transaction (a rollback keeps neither)."""
    stored_name = store.put(session, upload.data)
    record = Attachment(
        instance_id=instance_id,
        human_task_id=human_task_id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.data),
        sha256=upload.sha256,
        stored_name=stored_name,
        uploaded_by_id=uploader.id,
        uploaded_by_name=uploader.name,
        uploaded_at=now,
    )
    session.add(record)
    session.flush()
    return _view(record)


def attachments_of(session: Session, instance_id: int) -> list[AttachmentView]:
    """Return an instance's attachments, oldest first."""
    rows = session.scalars(
        select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id)
    )
    return [_view(row) for row in rows]


def attachment(session: Session, attachment_id: int) -> AttachmentView:
    """Return one attachment, or raise AttachmentNotFound."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise AttachmentNotFound(attachment_id)
    return _view(row)


def attachment_bytes(session: Session, store: FileStore, view: AttachmentView) -> bytes:
    """Return the attachment's bytes from the store, or raise AttachmentNotFound."""
    try:
        return store.read(session, view.stored_name)
    except FileNotStored as missing:
        raise AttachmentNotFound(view.id) from missing


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(
        row.id,
        row.instance_id,
        row.human_task_id,
        row.filename,
        row.content_type,
        row.size,
        row.sha256,
        row.stored_name,
        row.uploaded_by_name,
        row.uploaded_at,
    )
