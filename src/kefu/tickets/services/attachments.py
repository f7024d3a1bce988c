"""Files attached to a ticket: photos of a leak, a receipt, a call recording, a signed
reply. Accepted only when the extension is on the allow-list AND the bytes really are
that kind of file (the stored content type comes from the bytes, never from the
client); stored under a generated name in the data dir; the uploaded name is kept
only, cleaned, for display."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record
from kefu.core.errors import NotFound, ValidationFailed
from kefu.tickets import transitions
from kefu.tickets.choices import TicketErrorCode
from kefu.tickets.events import ticket_event
from kefu.tickets.models import Attachment, Ticket, TicketEvent, TicketSettings
from kefu.tickets.selectors import ticket_base
from kefu.tickets.services.common import VIEW, lock_ticket, require_ticket

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Extension → the content types its bytes may be. An MP4 container is the same format
# whether it holds sound or pictures, so .m4a and .mp4 accept both brands.
ALLOWED: dict[str, frozenset[str]] = {
    ".jpg": frozenset({"image/jpeg"}),
    ".jpeg": frozenset({"image/jpeg"}),
    ".png": frozenset({"image/png"}),
    ".gif": frozenset({"image/gif"}),
    ".webp": frozenset({"image/webp"}),
    ".pdf": frozenset({"application/pdf"}),
    ".docx": frozenset({DOCX}),
    ".xlsx": frozenset({XLSX}),
    ".txt": frozenset({"text/plain"}),
    ".mp3": frozenset({"audio/mpeg"}),
    ".m4a": frozenset({"audio/mp4", "video/mp4"}),
    ".amr": frozenset({"audio/amr", "audio/amr-wb"}),
    ".mp4": frozenset({"video/mp4", "audio/mp4"}),
}
# Types a browser may show as they are; everything else is served as a plain download.
INLINE_SAFE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})

NAME_MAX = 120  # Attachment.original_name
EXTENSION_MAX = 10
SNIFF_BYTES = 64 * 1024
CHUNK = 256 * 1024
# Characters Windows refuses in file names; replaced so the download saves anywhere.
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_STORED = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}$")


def _refused(message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, code=TicketErrorCode.ATTACHMENT_REJECTED, details={"field": "file", **details})


# ---------------------------------------------------------------------------- names


def display_name(raw: str | None) -> str:
    """The uploaded name made harmless for display and for the download's file name:
    no folders (`../`), no control, zero-width or direction-changing characters, no
    characters Windows refuses, at most 120 characters with the extension kept.
    Chinese (and every other printable script) stays."""
    text = unicodedata.normalize("NFC", str(raw or ""))
    # Whatever the client's path separator, only the last part is a name.
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("Zl", "Zp"):
            continue  # Cc control, Cf zero-width/bidi, Co/Cs/Cn: never shown
        kept.append(" " if category == "Zs" else char)
    text = _UNSAFE.sub("_", "".join(kept))
    text = _SPACES.sub(" ", text).strip(" .")
    stem, dot, extension = text.rpartition(".")
    if not dot or not stem or len(extension) > EXTENSION_MAX or " " in extension:
        stem, extension = text, ""
    stem = stem.strip(" .")
    if stem.upper() in _RESERVED:
        stem = f"_{stem}"
    suffix = f".{extension}" if extension else ""
    stem = (stem or _("附件"))[: NAME_MAX - len(suffix)].rstrip(" .") or _("附件")
    return f"{stem}{suffix}"


def extension_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


# ---------------------------------------------------------------------------- content


def _ftyp(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return "audio/mp4" if brand in (b"M4A ", b"M4B ", b"M4P ") else "video/mp4"
    return None


def _mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    # An MPEG audio frame: 11 sync bits, a known version and layer III.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) == 0x02


def _office(upload) -> str | None:
    """A .docx or .xlsx is a zip whose parts say which; the parts are listed, never
    extracted (a zip bomb costs nothing here)."""
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _text(head: bytes, truncated: bool) -> bool:
    """Plain text: no NUL bytes, valid UTF-8 (a character cut at the end of the sample
    is fine) or GB18030, the encoding Chinese Windows writes."""
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as err:
            if truncated and err.start >= len(head) - 4:
                return True
    return False


def sniff(upload, head: bytes, *, truncated: bool) -> str | None:
    """The content type the bytes really are (of those allowed), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if mp4 := _ftyp(head):
        return mp4
    if head.startswith(b"PK\x03\x04"):
        return _office(upload)
    if _mp3(head):
        return "audio/mpeg"
    if _text(head, truncated):
        return "text/plain"
    return None


def served_type(content_type: str) -> str:
    """What the download says it is: images and PDFs as themselves, the rest as bytes."""
    return content_type if content_type in INLINE_SAFE else "application/octet-stream"


# ---------------------------------------------------------------------------- storage


def attachments_root() -> Path:
    return Path(settings.DATA_DIR) / "attachments"


def attachment_path(attachment: Attachment) -> Path:
    """Where the file lies; a stored name that is not one we generate is refused."""
    if not _STORED.match(attachment.stored_name or ""):
        raise NotFound(_("附件文件不存在。"))
    return attachments_root() / attachment.stored_name


def _write(upload, fd: int, limit: int) -> tuple[int, str]:
    """Copy the upload into the new file `fd`, hashing as it goes; the size is counted
    here rather than trusted from the client."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _refused(_("附件不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)})
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _check_upload(upload, limit_mb: int) -> tuple[str, str]:
    """(display name, real content type) or a Chinese refusal."""
    if upload is None:
        raise _refused(_("请选择要上传的文件。"))
    name = display_name(getattr(upload, "name", ""))
    extension = extension_of(name)
    allowed = ALLOWED.get(extension)
    if allowed is None:
        raise _refused(
            _(
                "不支持该类型的文件（%(ext)s）。可上传：图片（jpg/png/gif/webp）、PDF、Word/Excel（docx/xlsx）、文本（txt）、录音（mp3/m4a/amr）、视频（mp4）。"
            )
            % {"ext": extension or _("无扩展名")},
            name=name,
        )
    size = getattr(upload, "size", None)
    if not size:
        raise _refused(_("文件“%(name)s”是空的。") % {"name": name}, name=name)
    if size > limit_mb * 1024 * 1024:
        raise _refused(_("附件不能超过 %(mb)s MB。") % {"mb": limit_mb}, name=name)
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    content_type = sniff(upload, head, truncated=size > len(head))
    if content_type not in allowed:
        raise _refused(
            _("文件“%(name)s”的内容与扩展名不符，已拒绝上传。") % {"name": name},
            name=name,
            sniffed=content_type or "",
        )
    return name, content_type


# ---------------------------------------------------------------------------- services


def attachment_add(*, actor, ticket: Ticket, upload, event: TicketEvent | None = None) -> Attachment:
    """Attach `upload` (a Django UploadedFile) to `ticket`, optionally to one of its
    events (the evidence of a handling record). Whoever may see the ticket may attach
    while the ticket is not finished. The file is written before the row; if anything
    after that fails, the file is removed again."""
    require_ticket(actor, VIEW, ticket)
    transitions.check("attach", ticket)
    if event is not None and event.ticket_id != ticket.pk:
        raise ValidationFailed(_("所选记录不属于该工单。"), details={"field": "event"})
    limit_mb = TicketSettings.cached().attachment_max_mb
    name, content_type = _check_upload(upload, limit_mb)

    now = timezone.now()
    local = timezone.localtime(now)
    stored_name = f"{local:%Y}/{local:%m}/{uuid.uuid4().hex}"
    path = attachments_root() / stored_name
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: a file that is already there is never overwritten (nor removed below).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        size, sha256 = _write(upload, fd, limit_mb * 1024 * 1024)
        with transaction.atomic():
            locked = lock_ticket(ticket)
            transitions.check("attach", locked)
            attachment = Attachment.objects.create(
                ticket=locked,
                event=event,
                original_name=name,
                stored_name=stored_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                uploaded_by=actor,
                uploaded_at=now,
            )
            recorded = ticket_event(
                ticket=locked,
                code="ticket.attachment.added",
                title=_("上传附件“%(name)s”") % {"name": name},
                actor=actor,
                data={
                    "attachment": attachment.pk,
                    "name": name,
                    "content_type": content_type,
                    "size": size,
                    "sha256": sha256,
                },
                on_timeline=False,
                at=now,
            )
            if event is None:
                attachment.event = recorded
                attachment.save(update_fields=["event"])
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_get(*, user, pk) -> Attachment:
    """An attachment whose ticket `user` may see (a department only once the ticket is
    routed to it); otherwise not found."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("附件不存在。")) from None
    attachment = (
        Attachment.objects.select_related("ticket").filter(pk=pk, ticket__in=ticket_base(user).values("pk")).first()
    )
    if attachment is None:
        raise NotFound(_("附件不存在或不在您的可见范围内。"))
    return attachment


def attachment_open(*, user, pk) -> tuple[Attachment, BinaryIO]:
    """An attachment `user` may see, its file opened for download — audited: the
    evidence on a complaint (photos of a home, contracts, invoices) is the customer's,
    and the archive keeps who took a copy."""
    attachment = attachment_get(user=user, pk=pk)
    try:
        handle = attachment_path(attachment).open("rb")
    except FileNotFoundError:
        raise NotFound(_("附件文件已丢失，请联系系统管理员。")) from None
    try:
        with transaction.atomic():
            audit_record(
                code="ticket.attachment.downloaded",
                obj=attachment.ticket,
                actor=user,
                data={"attachment": attachment.pk, "name": attachment.original_name, "size": attachment.size},
            )
    except BaseException:
        handle.close()  # no copy leaves unrecorded, and no file stays open
        raise
    return attachment, handle


def attachment_files_sweep(*, older_than: datetime.timedelta = datetime.timedelta(days=1), now=None) -> int:
    """Remove stored files no attachment row refers to: left behind when a caller's own
    larger transaction rolled back after `attachment_add` returned. Only files older
    than `older_than` go, so an upload whose transaction is still open is safe.
    Returns how many files were removed."""
    root = attachments_root()
    if not root.is_dir():
        return 0
    cutoff = (now or timezone.now()).timestamp() - older_than.total_seconds()
    removed = 0
    for month_dir in sorted(p for p in root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]") if p.is_dir()):
        candidates = {}
        for path in month_dir.iterdir():
            stored = f"{month_dir.parent.name}/{month_dir.name}/{path.name}"
            if path.is_file() and _STORED.match(stored) and path.stat().st_mtime < cutoff:
                candidates[stored] = path
        names = list(candidates)
        for start in range(0, len(names), 500):
            batch = names[start : start + 500]
            known = set(Attachment.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True))
            for stored in batch:
                if stored not in known:
                    candidates[stored].unlink(missing_ok=True)
                    removed += 1
    return removed
