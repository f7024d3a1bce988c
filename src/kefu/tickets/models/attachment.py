"""Files attached to a ticket (photos of a leak, a receipt, a signed reply)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Attachment(models.Model):
    """Stored under a generated name in the data dir, never under the uploaded one;
    served only to those who may see the ticket, always as a download."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey("tickets.TicketEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    original_name = models.CharField(_("文件名"), max_length=120)
    stored_name = models.CharField(max_length=80, unique=True)
    content_type = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name
