"""Attachment rules: allowed types checked by name and content, size, empty files, safe storage names."""

import io
import zipfile
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from domain import attachments
from domain.accounts.users import Actor
from domain.attachments import AttachmentRefused
from domain.attachments import check_upload
from domain.files import DatabaseFileStore
from domain.files import DirectoryFileStore
from domain.files import StoredFile
from domain.files import file_store

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def office_file(*parts: str) -> bytes:
    """Return a zip holding the given parts, as Word and Excel files are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for part in ("[Content_Types].xml", *parts):
            package.writestr(part, "<x/>")
    return buffer.getvalue()


def refusal(name: str, data: bytes, limit: int = attachments.MAX_BYTES) -> str:
    with pytest.raises(AttachmentRefused) as refused:
        check_upload(name, data, limit)
    return refused.value.code


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("证明.pdf", PDF, "application/pdf"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("scan.png", PNG, "image/png"),
        ("report.docx", office_file("word/document.xml"), attachments.KINDS["docx"][0]),
        ("hours.xlsx", office_file("xl/workbook.xml"), attachments.KINDS["xlsx"][0]),
    ],
)
def test_allowed_types_are_accepted_when_their_content_matches(name, data, content_type):
    upload = check_upload(name, data)
    assert upload.filename == name and upload.content_type == content_type
    assert len(upload.sha256) == 64


@pytest.mark.parametrize(
    "name", ["run.exe", "page.html", "notes.txt", "archive.zip", "no_extension", "x.pdf.exe"]
)
def test_other_extensions_are_refused(name):
    assert refusal(name, PDF) == "file_type"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fake.pdf", b"MZ\x90\x00 an executable renamed"),
        ("fake.png", PDF),
        ("fake.jpg", PNG),
        ("fake.docx", office_file("xl/workbook.xml")),  # a workbook named as a document
        ("fake.xlsx", b"PK\x03\x04 not really a zip"),
        ("plain.docx", office_file("readme.txt")),  # any zip is not a Word file
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(name, data):
    assert refusal(name, data) == "file_content"


def test_an_empty_file_is_refused():
    assert refusal("empty.pdf", b"") == "file_empty"


def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted():
    limit = 1024
    at_limit = PDF + b"0" * (limit - len(PDF))
    assert check_upload("ok.pdf", at_limit, limit).filename == "ok.pdf"
    assert refusal("big.pdf", at_limit + b"0", limit) == "file_too_big"


def test_a_refusal_names_the_file_and_the_rule(explain_in):
    with pytest.raises(AttachmentRefused) as refused:
        check_upload("big.pdf", PDF + b"0" * attachments.MAX_BYTES)

    assert (refused.value.code, refused.value.params) == ("file_too_big", {"name": "big.pdf", "limit": "10"})
    assert "big.pdf is larger than 10 MB" in explain_in(refused.value, "en")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../x.pdf", "x.pdf"),
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("/etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b\r\n.pdf", "ab.pdf"),
        ("..", "attachment"),
        ("继续教育证明.pdf", "继续教育证明.pdf"),
    ],
)
def test_only_the_last_part_of_a_name_is_kept(raw, clean):
    assert attachments.clean_filename(raw) == clean


@pytest.fixture(params=["database", "directory"])
def store(request, tmp_path):
    """Each file store: the default database one and a directory (a mount every node shares)."""
    if request.param == "database":
        return DatabaseFileStore()
    return DirectoryFileStore(tmp_path / "shared")


def _kept(session_factory, store) -> list[str]:
    if isinstance(store, DirectoryFileStore):
        return sorted(p.name for p in store.directory.iterdir()) if store.directory.exists() else []
    with session_factory() as session:
        return sorted(session.scalars(select(StoredFile.key)))


def test_a_traversal_name_is_stored_under_a_random_key(session_factory, tmp_path, store):
    upload = check_upload("../../x.pdf", PDF)
    with session_factory() as session, session.begin():
        view = attachments.add_attachment(session, store, upload, 1, 2, Actor(7, "审核员", ()), NOW)
    assert view.filename == "x.pdf"
    assert _kept(session_factory, store) == [view.stored_name]
    assert not (tmp_path / "x.pdf").exists()
    with session_factory() as session:
        assert attachments.attachments_of(session, 1) == [view]
        assert attachments.attachment_bytes(session, store, view) == PDF


def test_nothing_is_kept_when_the_record_rolls_back(session_factory, store):
    with session_factory() as session:
        attachments.add_attachment(
            session, store, check_upload("a.pdf", PDF), 1, None, Actor(7, "x", ()), NOW
        )
        assert len(_kept(session_factory, store)) == (1 if isinstance(store, DirectoryFileStore) else 0)
        session.rollback()
    assert _kept(session_factory, store) == []
    with session_factory() as session:
        assert attachments.attachments_of(session, 1) == []


@pytest.mark.parametrize("stored_name", ["../ceflow.db", "x.pdf", "", "0" * 31, "0" * 32])
def test_only_keys_the_store_made_are_opened(session_factory, store, stored_name):
    view = attachments.AttachmentView(1, 1, None, "a.pdf", "application/pdf", 1, "", stored_name, "x", NOW)
    with session_factory() as session, pytest.raises(attachments.AttachmentNotFound):
        attachments.attachment_bytes(session, store, view)


@pytest.mark.parametrize(
    ("setting", "made"),
    [
        ("database", "DatabaseFileStore()"),
        ("directory:/srv/ceflow-files", "DirectoryFileStore('/srv/ceflow-files')"),
    ],
)
def test_the_setting_names_the_store(setting, made):
    assert repr(file_store(setting)) == made


@pytest.mark.parametrize("setting", ["s3://bucket", "directory:", "/srv/files"])
def test_an_unknown_store_setting_is_refused_with_what_is_allowed(setting):
    with pytest.raises(ValueError, match="'database' or 'directory:"):
        file_store(setting)
