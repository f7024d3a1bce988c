"""URLs of the audit log (under /audit/). Read-only by design: there is no edit or
delete view, and the model and the database refuse both."""

from django.urls import path

from kefu.core.views import audit

app_name = "audit"
urlpatterns = [path("", audit.audit_list, name="list")]
