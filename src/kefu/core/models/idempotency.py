"""Idempotency keys: a client that retries a create (a timeout, a lost connection)
gets the first answer back instead of a second row."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """The answer to a create sent with an `Idempotency-Key` header, kept for a day.

    Written in the create's own transaction (see `kefu.core.idempotency`), so a record
    exists exactly when the create committed; the unique (user, key) constraint makes a
    concurrent duplicate wait for the first request and then replay its answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("幂等键"), max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # sha256 of the request body (canonical JSON when it is JSON): the same key with
    # another body is a client bug, refused rather than answered with a stale response.
    body_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
