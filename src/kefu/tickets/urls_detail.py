"""The ticket page's actions (included by tickets/urls.py, namespace `tickets`; the page
itself is `tickets:detail`). Each posts to one service and returns to the page."""

from django.urls import path

from kefu.tickets.views import actions, actions_edit, actions_money, actions_slips, detail

urlpatterns = [
    path("<int:pk>/history/", detail.ticket_history, name="history"),
    path("<int:pk>/reveal/caller-phone/", detail.reveal_caller_phone, name="reveal_caller_phone"),
    path("<int:pk>/edit/", actions_edit.ticket_edit_view, name="edit"),
    path("<int:pk>/assign/", actions.ticket_assign_view, name="assign"),
    path("<int:pk>/route/", actions.ticket_route_view, name="route"),
    path("<int:pk>/resolve/", actions.ticket_resolve_view, name="resolve"),
    path("<int:pk>/confirm/", actions.ticket_confirm_view, name="confirm"),
    path("<int:pk>/reopen/", actions.ticket_reopen_view, name="reopen"),
    path("<int:pk>/close/", actions.ticket_close_view, name="close"),
    path("<int:pk>/withdraw/", actions.ticket_withdraw_view, name="withdraw"),
    path("<int:pk>/duplicate/", actions.ticket_duplicate_view, name="duplicate"),
    path("<int:pk>/link/", actions.ticket_link_view, name="link"),
    path("<int:pk>/pause/", actions.ticket_pause_view, name="pause"),
    path("<int:pk>/resume/", actions.ticket_resume_view, name="resume"),
    path("<int:pk>/escalate/", actions.ticket_escalate_view, name="escalate"),
    path("<int:pk>/supervise/", actions.ticket_supervise_view, name="supervise"),
    path("<int:pk>/important/", actions.ticket_important_view, name="mark_important"),
    path("<int:pk>/comment/", actions.ticket_comment_view, name="comment"),
    path("<int:pk>/slips/<int:routing_id>/cancel/", actions_slips.slip_cancel_view, name="slip_cancel"),
    path("<int:pk>/slips/<int:routing_id>/accept/", actions_slips.slip_accept_view, name="slip_accept"),
    path("<int:pk>/slips/<int:routing_id>/handle/", actions_slips.slip_handle_view, name="slip_handle"),
    path("<int:pk>/slips/<int:routing_id>/reply/", actions_slips.slip_reply_view, name="slip_reply"),
    path("<int:pk>/slips/<int:routing_id>/extension/", actions_slips.slip_extension_view, name="slip_extension"),
    path(
        "<int:pk>/extensions/<int:extension_id>/decide/",
        actions_slips.extension_decide_view,
        name="extension_decide",
    ),
    path("<int:pk>/refunds/new/", actions_money.refund_request_view, name="refund_request"),
    path("<int:pk>/refunds/<int:refund_id>/cancel/", actions_money.refund_cancel_view, name="refund_cancel"),
    path("<int:pk>/refunds/<int:refund_id>/tell/", actions_money.refund_tell_view, name="refund_tell"),
]
