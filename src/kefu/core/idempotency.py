"""`Idempotency-Key` for API creates: a client that is not sure its POST arrived (a
timeout, a dropped connection) sends it again with the same key and gets the first
answer back — same status, same body — instead of a second customer, ticket or booking.

Use it in any ninja endpoint that creates something::

    @router.post("/things", response={201: ThingOut, **errors(403, 409, 422)})
    def thing_create(request, payload: ThingIn, idempotency_key: IdempotencyKey = None):
        return idempotent(
            request,
            key=idempotency_key,
            schema=ThingOut,
            create=lambda: services.thing_create(actor=request.user, ...),
        )

How it holds:
- The key is claimed (an `IdempotencyRecord` row, unique on user + key) *before* the
  create runs, in the same transaction; the answer is written into that row before
  the transaction commits. So a record exists exactly when the create committed, and a
  create that fails (a 4xx from the service) leaves no record: the client may fix the
  request and retry with the same key.
- A concurrent duplicate blocks on the unique index until the first commits, then its
  insert fails inside a savepoint and it replays the first answer: exactly one create.
- The same key with another body (or on another endpoint) is a client bug: 422
  `idempotency_key_reused`, nothing created.
- Records are kept for a day (`idempotency_purge`, run by the scheduler).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Schema
from ninja.responses import NinjaJSONEncoder

from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
RETENTION = datetime.timedelta(hours=24)
# Set on a replayed answer, so a client (and a person reading logs) can tell.
REPLAYED_HEADER = "Idempotent-Replayed"

# The endpoint parameter: documents the header in OpenAPI and bounds its length (422).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=MAX_KEY_LENGTH,
        description="幂等键（≤ 200 字符）：重试时使用同一键，将返回首次请求的结果而不会重复创建；"
        "同一键配不同请求内容返回 422 `idempotency_key_reused`。保留 24 小时。",
    ),
]


class IdempotencyKeyReused(ValidationFailed):
    """The key was already used for a different request (body, method or path)."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this key has not finished (only seen if the database
    does not make the duplicate wait, which PostgreSQL and SQLite both do)."""

    code = "idempotency_in_progress"


def clean_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            _("Idempotency-Key 无效：须为 1–200 个可打印字符。"),
            details={"field": HEADER},
        )
    return key


def body_hash(request: HttpRequest) -> str:
    """sha256 of the body; JSON is canonicalised first, so key order and whitespace of
    a retried request do not matter."""
    try:
        raw = request.body or b""
    except RawPostDataException:
        # A multipart body already read as a form: hash its fields instead.
        raw = json.dumps(sorted(request.POST.lists()) + sorted(request.FILES.keys()), ensure_ascii=False).encode()
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _dump(schema: type[Schema], result: Any) -> Any:
    """`result` as the JSON the client receives, serialised the way ninja serialises
    every other response (so a replay and a GET format dates alike)."""
    validated = result if isinstance(result, schema) else schema.model_validate(result)
    return json.loads(json.dumps(validated.model_dump(), cls=NinjaJSONEncoder))


def _response(status: int, body: Any, *, replayed: bool = False) -> JsonResponse:
    response = JsonResponse(body, status=status, safe=False, encoder=NinjaJSONEncoder)
    if replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def _replay(record: IdempotencyRecord, *, method: str, path: str, digest: str) -> JsonResponse:
    if (record.method, record.path, record.body_hash) != (method, path[:500], digest):
        raise IdempotencyKeyReused(
            _("该 Idempotency-Key 已用于另一个请求（请求内容不同）。请为新的请求使用新的键。"),
            details={"field": HEADER},
        )
    if not record.response_status:
        raise IdempotencyInProgress(_("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。"))
    return _response(record.response_status, record.response_body, replayed=True)


def _find(user, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key).first()


def idempotent(
    request: HttpRequest,
    *,
    key: str | None,
    schema: type[Schema],
    create: Callable[[], Any],
    status: int = 201,
) -> JsonResponse:
    """Run `create()` at most once per (user, `key`) and answer with its result
    serialised by `schema` with `status`. Without a key it simply runs `create()`.
    `create` must do its writes through services (their transactions nest in this one)
    and raise a `KefuError` on refusal."""
    key = clean_key(key)
    if key is None:
        return _response(status, _dump(schema, create()))
    user = request.user
    method, path, digest = request.method or "", request.path, body_hash(request)
    with transaction.atomic():
        record = _find(user, key)
        if record is not None:
            return _replay(record, method=method, path=path, digest=digest)
        try:
            # The savepoint keeps the outer transaction usable when a concurrent
            # request with the same key won the unique index.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=method, path=path[:500], body_hash=digest
                )
        except IntegrityError:
            winner = _find(user, key)
            if winner is None:
                raise IdempotencyInProgress(_("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。")) from None
            return _replay(winner, method=method, path=path, digest=digest)
        body = _dump(schema, create())
        record.response_status, record.response_body = status, body
        record.save(update_fields=["response_status", "response_body"])
    return _response(status, body)


def idempotency_purge(*, older_than: datetime.timedelta = RETENTION, now: datetime.datetime | None = None) -> int:
    """Delete records older than `older_than` (a day by default); returns how many.
    Run periodically; a key reused after that is a new request."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
