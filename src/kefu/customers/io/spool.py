"""The check's decoded, validated rows, kept next to the upload for the commit.

Without it the commit reads the .xlsx again (expat callbacks for every cell: about 4 s
per 100,000 rows) and parses and validates every row again (about 2.5 s, half of it the
ID number checks) before it writes anything. The check writes each row as `RowParser`
returned it — before anything that depends on the archive (duplicates against the
archive, matching, numbering, the final kind and scope checks), which the commit still
does at commit time, exactly as before — and the commit reads those rows back instead.

The spool is used only when it is complete and belongs to exactly this upload and this
code: its header holds a key (`spool_key`) made of the job, the upload's name, size and
SHA-256 (hashed again from disk at both ends, and equal to the digest taken at upload),
a digest of the reference data the parse looked up (regions, classes, grades, sources,
categories, active users, custom fields), the date the birthday check used, the
language of the messages, and a digest of the parsing code and the libraries it
depends on. Anything different and the commit falls back to reading the file.

Format: records of a one-byte type, a 4-byte big-endian length and a payload. `H` the
header (JSON), then one `C` record per chunk of the check (zlib-compressed JSON: one
list of field values per row, in the order of `ROW_FIELDS`), then `E`, the trailer
(JSON: rows, chunks, SHA-256 of every byte before it). The check writes it to
`<upload>.spool.part`, syncs it, and renames it to `<upload>.spool` only once the last
row is in: a worker that dies mid-check leaves at most a `.part` file, which nothing
reads and housekeeping deletes with the upload. The commit checks the trailer over the
whole file before it uses a single row (so a truncated or altered spool is never half
used), then streams it one chunk at a time (memory does not grow with the file).

Not pickle: the spool is a file on disk that the commit trusts only as data; a tagged
JSON value can at worst be wrong (and then the key or the trailer catches it), never run
code. The spool holds what the upload holds (names, phones, ID numbers), so it is
created readable by its owner only and deleted together with the upload."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import os
import struct
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import IO, Any

from django.utils import translation

from kefu.customers.io.rows import ImportRow, References
from kefu.customers.models import CustomField, ImportJob

logger = logging.getLogger(__name__)

# Bump when the layout of the records changes.
SPOOL_FORMAT = 1
SUFFIX = ".spool"
PART = ".part"
_HEADER, _CHUNK, _END = b"H", b"C", b"E"
_FRAME = struct.Struct(">cI")
# No record of a sane spool comes near this (a chunk of 2,000 rows is about 0.3 MB
# compressed); a larger length means a damaged file, not a reason to allocate it.
_MAX_RECORD = 64 << 20
# zlib level 1: the spool is about 3× smaller than the JSON (a 100,000-row file would
# otherwise leave ~50 MB beside a 13 MB upload) for a fraction of the time level 6 takes.
_LEVEL = 1

# What RowParser fills in; the rest of ImportRow (target, action, changes) belongs to
# matching and writing, which the commit does again.
_LATER = ("target", "action", "changes")
ROW_FIELDS = tuple(f.name for f in dataclasses.fields(ImportRow) if f.name not in _LATER)
# Rows are rebuilt positionally (four times cheaper than by keyword: it counts at
# 100,000 rows) while the later fields come last, as they do.
_POSITIONAL = tuple(f.name for f in dataclasses.fields(ImportRow))[: len(ROW_FIELDS)] == ROW_FIELDS

# The code a spooled row depends on: changed by a deployment between the check and the
# commit, and the commit parses the file again.
_CODE_MODULES = (
    "kefu.customers.io.columns",
    "kefu.customers.io.importer",
    "kefu.customers.io.reading",
    "kefu.customers.io.rows",
    "kefu.customers.io.spool",
    "kefu.customers.fields",
    "kefu.customers.validation",
    "kefu.customers.services.customers",
)
_code_digest: str | None = None


class SpoolBroken(RuntimeError):
    """The spool changed under the commit after it had been checked (nothing of ours
    writes a finished spool: this is a damaged disk or someone editing files)."""


# --- the key: what the spooled rows depend on --------------------------------------------


def code_digest() -> str:
    """Digest of the parsing code and the libraries it calls (once per process)."""
    global _code_digest
    if _code_digest is None:
        import django
        import openpyxl
        import stdnum

        digest = hashlib.sha256()
        for name in _CODE_MODULES:
            module = sys.modules.get(name) or __import__(name, fromlist=["_"])
            try:
                with open(module.__file__, "rb") as handle:
                    digest.update(handle.read())
            except (OSError, TypeError):  # no source file (a frozen install): the versions must do
                digest.update(name.encode())
        versions = [django.__version__, openpyxl.__version__, stdnum.__version__, *ROW_FIELDS, str(SPOOL_FORMAT)]
        digest.update("\x1f".join(versions).encode())
        _code_digest = digest.hexdigest()
    return _code_digest


def references_digest(refs: References) -> str:
    """Digest of the reference data a row's parse looked up: a region renamed, a user
    deactivated or a custom field changed between the check and the commit can change
    what a row resolves to or which errors it has."""

    def lookup(table) -> list:
        # Only "exactly one id" or "several" matters for a name, not their order.
        return [sorted(table.by_code.items()), sorted((k, sorted(v)) for k, v in table.by_name.items())]

    columns = [f.attname for f in CustomField._meta.concrete_fields]
    payload = {
        "regions": lookup(refs.regions),
        "classes": lookup(refs.classes),
        "grades": lookup(refs.grades),
        "sources": lookup(refs.sources),
        "categories": lookup(refs.categories),
        "usernames": sorted(refs.usernames.items()),
        "user_names": sorted((k, sorted(v)) for k, v in refs.user_names.items()),
        "user_ids": sorted(refs.user_ids.items()),
        # In their order: the header mapping takes the first field whose label matches.
        "fields": [[key, [getattr(f, c) for c in columns]] for key, f in refs.fields.items()],
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _file_facts(job: ImportJob) -> dict[str, Any] | None:
    """Name, size and SHA-256 of the upload as it is on disk now; None when it cannot be
    read or is not the file that was uploaded."""
    digest = hashlib.sha256()
    size = 0
    try:
        # A handle of its own: `job.file.open()` would hand back (and then close) the
        # one the reader is using.
        with job.file.storage.open(job.file.name, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except (OSError, ValueError):
        return None
    if digest.hexdigest() != job.file_hash:
        logger.warning("import job %s: the stored file no longer matches its upload digest", job.pk)
        return None
    return {"name": job.file.name, "size": size, "sha256": digest.hexdigest()}


def spool_key(job: ImportJob, refs: References, *, today: datetime.date) -> dict[str, Any] | None:
    """Everything a spooled row depends on besides its cells (None: no spool possible)."""
    facts = _file_facts(job)
    if facts is None:
        return None
    return {
        "format": SPOOL_FORMAT,
        "code": code_digest(),
        "job": job.pk,
        "file": facts,
        "references": references_digest(refs),
        "today": today.isoformat(),  # RowParser rejects birthdays after "today"
        "language": translation.get_language() or "",  # the rows' error messages
    }


# --- where ----------------------------------------------------------------------------------


def spool_path(name: str, storage) -> str | None:
    """`<upload>.spool` beside the upload on the local disk; None for an upload with no
    name or a storage without local paths (no spool then: the commit reads the file)."""
    if not name:
        return None
    try:
        return storage.path(name) + SUFFIX
    except NotImplementedError:
        return None


def discard_spool(name: str, storage) -> bool:
    """Delete the spool of upload `name` and any unfinished one. False when the disk
    refused (the caller keeps the upload, so housekeeping comes back for both)."""
    path = spool_path(name, storage)
    if path is None:
        return True
    ok = True
    for candidate in (path, path + PART):
        try:
            os.unlink(candidate)
        except FileNotFoundError:
            pass
        except OSError:
            logger.warning("import spool %s not deleted", candidate, exc_info=True)
            ok = False
    return ok


# --- rows -----------------------------------------------------------------------------------

# Tagged values for what JSON has no type for; a one-key object whose key starts with
# NUL cannot come from a parsed row (dict keys there are field names).
_DATE, _DATETIME, _DECIMAL = "\x00d", "\x00t", "\x00n"


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, datetime.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == _DATE:
            return datetime.date.fromisoformat(value)
        if key == _DATETIME:
            return datetime.datetime.fromisoformat(value)
        if key == _DECIMAL:
            return Decimal(value)
    return obj


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_encode_value, check_circular=False)
_decoder = json.JSONDecoder(object_hook=_decode_object)


def encode_rows(rows: list[ImportRow]) -> bytes:
    fields = ROW_FIELDS
    for row in rows:
        if row.target is not None or row.action or row.changes is not None:
            raise ValueError(f"row {row.number} was already matched: only freshly parsed rows are spooled")
    text = _encoder.encode([[getattr(row, name) for name in fields] for row in rows])
    return zlib.compress(text.encode(), _LEVEL)


def decode_rows(payload: bytes) -> list[ImportRow]:
    fields = ROW_FIELDS
    rows = _decoder.decode(zlib.decompress(payload).decode())
    for values in rows:
        if len(values) != len(fields):
            raise ValueError("a spooled row has the wrong number of fields")
    if _POSITIONAL:
        return [ImportRow(*values) for values in rows]
    return [ImportRow(**dict(zip(fields, values, strict=True))) for values in rows]


# --- writing (the check) ----------------------------------------------------------------


class SpoolWriter:
    """Written by the check chunk by chunk; usable only after `finish`. A failure to
    write (disk full…) never fails the check: the spool is dropped and the commit will
    read the file, as it did before spools existed."""

    def __init__(self, path: str, key: dict[str, Any]):
        self.path = path
        self.part = path + PART
        self.key = key
        self.digest = hashlib.sha256()
        self.rows = 0
        self.chunks = 0
        self.handle: IO[bytes] | None = None

    @classmethod
    def start(cls, job: ImportJob, refs: References, *, today: datetime.date) -> SpoolWriter | None:
        path = spool_path(job.file.name, job.file.storage)
        if path is None:
            return None
        key = spool_key(job, refs, today=today)
        if key is None:
            return None
        writer = cls(path, key)
        try:
            # A spool already there was made for an earlier pass over this upload: it
            # goes first, so that only this check's rows can ever be read.
            discard_spool(job.file.name, job.file.storage)
            fd = os.open(writer.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            writer.handle = os.fdopen(fd, "wb", buffering=1 << 20)
            writer._record(_HEADER, json.dumps({"key": key}, ensure_ascii=False).encode())
        except OSError:
            logger.warning("import job %s: no spool (cannot write %s)", job.pk, writer.part, exc_info=True)
            writer.abort()
            return None
        return writer

    def _record(self, kind: bytes, payload: bytes) -> None:
        frame = _FRAME.pack(kind, len(payload))
        self.digest.update(frame)
        self.digest.update(payload)
        self.handle.write(frame)
        self.handle.write(payload)

    def add(self, rows: list[ImportRow]) -> None:
        """One chunk of freshly parsed rows (before matching changes them)."""
        if self.handle is None:
            return
        try:
            self._record(_CHUNK, encode_rows(rows))
        except (OSError, TypeError, ValueError):
            logger.warning("import spool %s abandoned", self.part, exc_info=True)
            self.abort()
            return
        self.rows += len(rows)
        self.chunks += 1

    def finish(self) -> bool:
        """Seal the spool: trailer, sync, rename. True when it is there to be used."""
        if self.handle is None:
            return False
        trailer = {"rows": self.rows, "chunks": self.chunks, "sha256": self.digest.hexdigest()}
        try:
            payload = json.dumps(trailer).encode()
            self.handle.write(_FRAME.pack(_END, len(payload)))
            self.handle.write(payload)
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            self.handle = None
            os.replace(self.part, self.path)
        except OSError:
            logger.warning("import spool %s not finished", self.part, exc_info=True)
            self.abort()
            return False
        return True

    def abort(self) -> None:
        if self.handle is not None:
            with suppress(OSError):
                self.handle.close()
            self.handle = None
        with suppress(OSError):
            os.unlink(self.part)


# --- reading (the commit) -----------------------------------------------------------------


def _read_record(handle: IO[bytes]) -> tuple[bytes, bytes, bytes] | None:
    """(type, frame, payload) of the next record; None at the end or when damaged."""
    frame = handle.read(_FRAME.size)
    if len(frame) != _FRAME.size:
        return None
    kind, length = _FRAME.unpack(frame)
    if length > _MAX_RECORD:
        return None
    payload = handle.read(length)
    if len(payload) != length:
        return None
    return kind, frame, payload


def _complete(handle: IO[bytes]) -> dict[str, Any] | None:
    """The trailer when every record is whole and the trailer's digest and counts match
    the bytes before it; None otherwise."""
    digest = hashlib.sha256()
    chunks = 0
    while (record := _read_record(handle)) is not None:
        kind, frame, payload = record
        if kind == _END:
            try:
                trailer = json.loads(payload)
            except ValueError:
                return None
            whole = handle.read(1) == b""  # nothing may follow the trailer
            if whole and trailer.get("sha256") == digest.hexdigest() and trailer.get("chunks") == chunks:
                return trailer
            return None
        if kind == _CHUNK:
            chunks += 1
        elif kind != _HEADER:
            return None
        digest.update(frame)
        digest.update(payload)
    return None


def _header_key(handle: IO[bytes]) -> dict[str, Any] | None:
    record = _read_record(handle)
    if record is None or record[0] != _HEADER:
        return None
    try:
        return json.loads(record[2]).get("key")
    except (ValueError, AttributeError):
        return None


@contextmanager
def open_spool(job: ImportJob, refs: References, *, today: datetime.date) -> Iterator[Iterator[list[ImportRow]] | None]:
    """The spooled rows of `job`, chunk by chunk as the check had them — or None when
    there is no spool, or it is unfinished, damaged, or made for anything other than
    this upload, this reference data, this day, this language and this code."""
    path = spool_path(job.file.name, job.file.storage)
    handle = None
    if path is not None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below, after the caller's loop)
        except OSError:
            handle = None
    if handle is None:
        yield None
        return
    try:
        chunks = _usable(job, refs, today, handle)
        if chunks is None:
            logger.info("import job %s: spool not usable, reading the file again", job.pk)
        yield chunks
    finally:
        handle.close()


def _usable(job, refs, today, handle) -> Iterator[list[ImportRow]] | None:
    try:
        stored = _header_key(handle)
        if stored is None or stored != spool_key(job, refs, today=today):
            return None
        handle.seek(0)
        trailer = _complete(handle)
        if trailer is None:
            return None
    except OSError:
        return None
    handle.seek(0)
    return _chunks(handle, trailer)


def _chunks(handle: IO[bytes], trailer: dict[str, Any]) -> Iterator[list[ImportRow]]:
    """Stream the chunks, checking the bytes again as they go: the file is read twice
    and must not have changed in between (it is read through one open handle, so a
    rename or deletion meanwhile does not matter)."""
    digest = hashlib.sha256()
    rows = 0
    while (record := _read_record(handle)) is not None:
        kind, frame, payload = record
        if kind == _END:
            break
        digest.update(frame)
        digest.update(payload)
        if kind == _CHUNK:
            chunk = decode_rows(payload)
            rows += len(chunk)
            yield chunk
    if digest.hexdigest() != trailer["sha256"] or rows != trailer["rows"]:
        raise SpoolBroken("the import spool changed while it was read")
