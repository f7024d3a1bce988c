"""URLs of the service desk (under kefu.tickets.urls, namespace `tickets`): the queues,
bulk actions, exports, the important complaints archive and the call screen."""

from django.urls import path

from kefu.tickets.selectors import QUEUES
from kefu.tickets.views import bulk, call, export, queues

urlpatterns = [
    path("", queues.ticket_queue_view, name="list"),
    path("bulk/", bulk.ticket_bulk, name="bulk"),
    path("export/", export.queue_export, name="export"),
    path("important/", queues.important_archive_view, name="important"),
    path("important/export/", export.important_export, name="important_export"),
    path("call/", call.call_screen, name="call"),
    path("call/customers/", call.call_customers, name="call_customers"),
    path("call/customers/new/", call.call_new_customer, name="call_new_customer"),
    path("call/caller/", call.call_caller, name="call_caller"),
    path("call/kind/", call.call_kind, name="call_kind"),
]
# A short address per queue (/tickets/overdue/ …), for the tabs and the dashboard figures;
# the same page as /tickets/?queue=overdue.
urlpatterns += [
    path(f"{code.replace('_', '-')}/", queues.ticket_queue_view, {"queue": code}, name=f"queue_{code}")
    for code in QUEUES
]
