"""One pass over an import file: parse and validate every row, find duplicates inside
the file, match each row with the archive, decide what it does (create / update /
skip) and — during the commit — write each chunk.

Rows are processed in chunks of `CHUNK_ROWS`: per chunk a constant number of queries
matches the archive (`lookups`: one parameter for all the chunk's values), the in-file duplicate
keys are looked up in a scratch database (`seen`), and `writing.write_chunk` writes
in bulk, so no row needs a query of its own and memory does not grow with the file.

The check keeps its parsed rows in a spool beside the upload (`spool`); the commit
starts from those when they are complete and were made for this very upload, and from
the file otherwise. Only the parse is taken over: all that depends on the database
(duplicates in the file and in the archive, the matched archive, numbering) runs again
at commit time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access, context
from kefu.core.errors import AccessDenied, ValidationFailed
from kefu.customers.io.columns import KIND_TEXT, resolve_headers
from kefu.customers.io.lookups import one_of, select
from kefu.customers.io.reading import cell_text, open_rows
from kefu.customers.io.rows import ORG, PERSON, Archive, ImportRow, References, RowParser, load_archives, row_changes
from kefu.customers.io.seen import ID_NUMBER, NAME_PHONE, NUMBER, TARGET, SeenKeys, name_phone_key
from kefu.customers.io.spool import SpoolWriter, open_spool
from kefu.customers.io.writing import write_chunk
from kefu.customers.models import Contact, Customer, ImportJob
from kefu.customers.models.imports import ImportMode
from kefu.customers.services.common import ensure_in_scope
from kefu.customers.validation import clean_id_number

CHUNK_ROWS = 2000
REJECTED_CAP = 1000
MAX_ROWS = 1_000_000


@dataclass
class Outcome:
    total: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected_list: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: ImportRow) -> None:
        self.rejected += 1
        if len(self.rejected_list) < REJECTED_CAP:
            self.rejected_list.append({"row": row.number, "errors": list(row.errors)})


CUSTOMERS = Customer._meta.db_table
CONTACTS = Contact._meta.db_table


class Importer:
    """One pass over a file: parse and validate, match with the archive, and (when
    `write`) write each chunk. The dry run and the commit are this same pass, so the
    check predicts exactly what the commit does."""

    def __init__(self, job: ImportJob, *, actor, write: bool, mode: str, progress: Callable[[int], None]):
        self.job = job
        self.actor = actor
        self.write = write
        self.mode = mode
        self.progress = progress
        self.refs = References.load()
        self.outcome = Outcome()
        self.sees_all = access.sees_everything(actor)
        self.region_ids = access.user_region_ids(actor)
        self.default_region_id = getattr(actor, "region_id", None)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.ctx = context.current()
        self.spool: SpoolWriter | None = None
        self.used_spool = False  # the commit took its rows from the check's spool

    # -- driving -------------------------------------------------------------------

    def run(self) -> Outcome:
        self.seen = SeenKeys()
        try:
            self._read()
            if self.outcome.total == 0:
                raise ValidationFailed(_("文件中没有数据行。"), code="import_empty")
            if self.spool is not None:
                # Sealed only once every row is in and the pass succeeded.
                self.spool.finish()
        finally:
            self.seen.close()
            if self.spool is not None and self.spool.handle is not None:
                self.spool.abort()
        return self.outcome

    def _read(self) -> None:
        if self.write:
            # The commit takes the check's parsed rows from its spool when there is a
            # usable one (see `spool`); everything after the parse runs as always.
            with open_spool(self.job, self.refs, today=timezone.localdate()) as chunks:
                if chunks is not None:
                    self.used_spool = True
                    for rows in chunks:
                        self._take(rows)
                    return
        with self.job.file.open("rb") as handle, open_rows(handle, self.job.file.name) as rows:
            mapping = None
            for _number, values in rows:
                if not any(cell_text(v) for v in values):
                    continue
                mapping = resolve_headers(values, self.refs.fields.values())
                break
            if mapping is None:
                raise ValidationFailed(_("文件中没有内容（第一行应为列标题）。"), code="import_empty")
            parser = RowParser(mapping, self.refs)
            # The check keeps what it parsed for the commit; the commit (reading the
            # file because the spool was not usable) has no use for another one.
            self.spool = None if self.write else SpoolWriter.start(self.job, self.refs, today=parser.today)
            chunk: list[ImportRow] = []
            for number, values in rows:
                row = parser.parse(number, values)
                if row is None:
                    continue
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    self._take(chunk)
                    chunk = []
            if chunk:
                self._take(chunk)

    def _take(self, rows: list[ImportRow]) -> None:
        """One chunk of parsed rows: counted, spooled as parsed (before matching adds to
        them), then processed."""
        self.outcome.total += len(rows)
        if self.outcome.total > MAX_ROWS:
            raise ValidationFailed(
                _("文件超过 %(max)d 行，请拆分后导入。") % {"max": MAX_ROWS}, code="import_too_large"
            )
        if self.spool is not None:
            self.spool.add(rows)
        self._chunk(rows)

    def _chunk(self, rows: list[ImportRow]) -> None:
        self._in_file_duplicates(rows)
        self._match(rows)
        for row in rows:
            if row.ok:
                self._settle(row)
        for row in rows:
            if not row.ok:
                self.outcome.reject(row)
            elif row.action == "create":
                self.outcome.created += 1
            elif row.action == "update":
                self.outcome.updated += 1
            else:
                self.outcome.skipped += 1
        if self.write and (self.mode == ImportMode.VALID_ONLY or self.outcome.rejected == 0):
            write_chunk(self, [r for r in rows if r.ok])
        self.progress(self.outcome.total)

    # -- duplicates inside the file -----------------------------------------------

    def _in_file_duplicates(self, rows: list[ImportRow]) -> None:
        live = [r for r in rows if r.ok]
        keys = {
            NUMBER: lambda r: r.archive_no,
            ID_NUMBER: lambda r: r.id_number,
            NAME_PHONE: lambda r: name_phone_key(r.name, r.digits) if r.digits else "",
        }
        earlier = {kind: self.seen.first_rows(kind, filter(None, map(key, live))) for kind, key in keys.items()}
        new: dict[int, dict[str, int]] = {kind: {} for kind in keys}

        def first(kind: int, key: str) -> int | None:
            return (earlier[kind].get(key) or new[kind].get(key)) if key else None

        for row in live:
            found = {kind: (key(row), first(kind, key(row))) for kind, key in keys.items()}
            if found[NUMBER][1]:
                row.errors.append(
                    _("与第 %(row)d 行的档案编号相同：%(value)s") % {"row": found[NUMBER][1], "value": row.archive_no}
                )
            if found[ID_NUMBER][1]:
                row.errors.append(_("与第 %(row)d 行重复（证件号码相同）。") % {"row": found[ID_NUMBER][1]})
            if found[NAME_PHONE][1]:
                row.errors.append(_("与第 %(row)d 行重复（名称与电话相同）。") % {"row": found[NAME_PHONE][1]})
            if row.ok:
                for kind, (key, _first) in found.items():
                    if key:
                        new[kind][key] = row.number
        for kind, added in new.items():
            self.seen.add(kind, added)

    # -- matching with the archive ------------------------------------------------

    def _match(self, rows: list[ImportRow]) -> None:
        live = [r for r in rows if r.ok]
        by_number: dict[str, tuple[int, str | None]] = {}
        numbers = {r.archive_no for r in live if r.archive_no}
        if numbers:
            where, params = one_of("c.archive_no", numbers)
            sql = (
                f"SELECT c.id, c.archive_no, m.archive_no FROM {CUSTOMERS} c "  # noqa: S608 (names from the models)
                f"LEFT JOIN {CUSTOMERS} m ON m.id = c.merged_into_id WHERE {where}"
            )
            for pk, number, merged_into in select(sql, params):
                by_number[number] = (pk, merged_into)
        by_id: dict[str, set[int]] = defaultdict(set)
        ids = {r.id_number for r in live if r.id_number and not r.archive_no}
        if ids:
            where, params = one_of("id_number", ids)
            sql = f"SELECT id, id_number, merged_into_id FROM {CUSTOMERS} WHERE {where}"  # noqa: S608
            for pk, id_number, merged_into in select(sql, params):
                if merged_into is None:
                    by_id[id_number].add(pk)
        by_name_phone: dict[tuple[str, str], set[int]] = defaultdict(set)
        pairs = [r for r in live if r.digits and not r.archive_no]
        if pairs:
            digits_in, digits = one_of("ct.phone_digits", {r.digits for r in pairs})
            names_in, names = one_of("cu.name", {r.name for r in pairs})
            sql = (
                f"SELECT ct.customer_id, cu.name, ct.phone_digits, cu.merged_into_id FROM {CONTACTS} ct "  # noqa: S608
                f"JOIN {CUSTOMERS} cu ON cu.id = ct.customer_id WHERE {digits_in} AND {names_in}"
            )
            for customer_id, name, digits_found, merged_into in select(sql, digits + names):
                if merged_into is None:
                    by_name_phone[(name, digits_found)].add(customer_id)

        wanted: dict[ImportRow, int] = {}
        for row in live:
            if row.archive_no:
                found = by_number.get(row.archive_no)
                if found is None:
                    row.errors.append(
                        _("档案编号不存在：%(value)s（新建档案请将档案编号留空）") % {"value": row.archive_no}
                    )
                elif found[1]:
                    row.errors.append(
                        _("档案 %(value)s 已合并至 %(into)s，请改用 %(into)s。")
                        % {"value": row.archive_no, "into": found[1]}
                    )
                else:
                    wanted[row] = found[0]
                continue
            candidates = set(by_id.get(row.id_number, ())) if row.id_number else set()
            if row.digits:
                candidates |= by_name_phone.get((row.name, row.digits), set())
            if len(candidates) == 1:
                wanted[row] = candidates.pop()
            elif len(candidates) > 1:
                numbers_found = (
                    Customer.objects.filter(pk__in=candidates).order_by("pk").values_list("archive_no", flat=True)
                )
                row.errors.append(
                    _("与多个已有档案重复（%(numbers)s），请填写档案编号指明要更新哪一个。")
                    % {"numbers": "、".join(numbers_found)}
                )
        if wanted:
            self._targets(wanted)

    def _targets(self, wanted: dict[ImportRow, int]) -> None:
        loaded = load_archives(set(wanted.values()), lock=self.write)
        earlier = self.seen.first_rows(TARGET, (str(pk) for pk in wanted.values()))
        new: dict[str, int] = {}
        for row, pk in wanted.items():
            target = loaded.get(pk)
            if target is None:  # merged or gone since the lookup
                row.errors.append(_("对应的档案已不存在或已被合并。"))
                continue
            if not self._visible(target):
                row.errors.append(
                    _("档案 %(value)s 不在您的可见范围内，不能通过导入修改。") % {"value": target.archive_no}
                )
                continue
            first = earlier.get(str(pk)) or new.get(str(pk))
            if first is not None:
                row.errors.append(
                    _("与第 %(row)d 行对应同一档案（%(value)s）。") % {"row": first, "value": target.archive_no}
                )
                continue
            new[str(pk)] = row.number
            row.target = target
        self.seen.add(TARGET, new)

    def _visible(self, customer: Archive) -> bool:
        return self.sees_all or customer.owner_id == self.actor.pk or customer.region_id in self.region_ids

    # -- what each row does -------------------------------------------------------

    def _settle(self, row: ImportRow) -> None:
        """Final checks that depend on the matched archive, then create / update / skip."""
        target = row.target
        if target is not None:
            if row.kind and row.kind != target.kind:
                row.errors.append(
                    _("类型与档案 %(value)s 不一致（导入不能修改客户类型）。") % {"value": target.archive_no}
                )
            kind = target.kind
        else:
            kind = row.kind or row.id_kind or PERSON
            if row.id_masked:
                row.errors.append(_("证件号码已脱敏（含 *），不能用于新建档案。"))
            if row.phone_masked:
                row.errors.append(_("手机/电话已脱敏（含 *），不能用于新建档案。"))
        if row.id_number and row.id_kind != kind:
            try:
                row.id_number = clean_id_number(row.id_raw, organisation=kind == ORG)
            except ValidationFailed as exc:
                row.errors.append(exc.message)
        row.kind = kind
        self._check_extra(row, target)
        self._check_scope(row, target)
        if not row.ok:
            return
        if target is None:
            row.action = "create"
        else:
            row.action = "update" if row_changes(row, target, self.now) else "skip"

    def _check_extra(self, row: ImportRow, target: Archive | None) -> None:
        fields = [f for f in self.refs.fields.values() if not f.applies_to or f.applies_to == row.kind]
        applicable = {f.key for f in fields}
        for key in row.extra:
            if key not in applicable:
                label = next(f.label for f in self.refs.fields.values() if f.key == key)
                row.errors.append(
                    _("%(label)s 不适用于%(kind)s客户。") % {"label": label, "kind": KIND_TEXT.get(row.kind, "")}
                )
        merged = {**(target.extra if target is not None else {}), **row.extra}
        for custom in fields:
            if custom.required and merged.get(custom.key) in (None, ""):
                row.errors.append(_("%(label)s 为必填项。") % {"label": custom.label})

    def _check_scope(self, row: ImportRow, target: Archive | None) -> None:
        if target is None:
            region = row.values.get("region_id") or self.default_region_id
            owner = row.values.get("owner_id")
        elif "region_id" in row.values or "owner_id" in row.values:
            region = row.values.get("region_id", target.region_id)
            owner = row.values.get("owner_id", target.owner_id)
        else:
            return
        try:
            ensure_in_scope(self.actor, region=region, owner=owner)
        except AccessDenied as exc:
            row.errors.append(exc.message)
