"""API token services: create (the raw token is returned once), revoke, authenticate."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from kefu.core.audit import audit_record
from kefu.core.errors import InvalidState
from kefu.core.models import ApiToken

TOKEN_PREFIX = "kefu_"
_TOUCH_EVERY = datetime.timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, name: str = "", actor=None) -> tuple[ApiToken, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], key_hash=_hash(raw))
        audit_record(code="token.created", obj=token, actor=actor, data={"user": user.username, "name": name})
    return token, raw


def token_revoke(*, token: ApiToken, actor=None) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise InvalidState("该令牌已吊销。")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(code="token.revoked", obj=token, actor=actor, data={"user": token.user.username})
    return token


def token_authenticate(raw: str):
    """The active user owning this unrevoked token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Touch at most every few minutes: a busy integration should not write on each call.
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
