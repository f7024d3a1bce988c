"""What a ticket carries: its history, its slips (投诉告知单) with their extensions and
printable PDF, internal comments and attachments. All read through the ticket the
scoped selector returns, so whoever cannot see the ticket sees none of them."""

from __future__ import annotations

from typing import Annotated

from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from ninja import File, Form, Query, UploadedFile

from kefu.core import access
from kefu.core.idempotency import IdempotencyKey, idempotent
from kefu.core.schemas import errors
from kefu.tickets import selectors
from kefu.tickets.api.common import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    VIEW,
    attachment_out,
    event_out,
    not_found,
    page_of,
    pick,
    slip_out,
    slip_pdf_path,
    ticket_for,
)
from kefu.tickets.api.router import router
from kefu.tickets.api.schemas import AttachmentOut, EventOut, EventPage, SlipOut
from kefu.tickets.api.schemas_in import MAX_ID, CommentIn
from kefu.tickets.models import DeadlineExtension
from kefu.tickets.services.attachments import attachment_add
from kefu.tickets.services.tickets import ticket_comment

COMMENT = "ticket.comment"
CHRONOLOGICAL = ("at", "id")


@router.get(
    "/tickets/{ticket_id}/events",
    response={200: EventPage, **errors(403, 404, 422)},
    summary="工单处理记录",
    description="登记、派单、接收、处理、回复、督办、备注……按时间先后；按游标分页。",
    operation_id="tickets_events",
)
def ticket_events(
    request,
    ticket_id: int,
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    ticket = ticket_for(request, ticket_id)
    page = page_of(selectors.events_for(ticket), order=CHRONOLOGICAL, cursor=cursor, limit=limit)
    return {"items": [event_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/tickets/{ticket_id}/slips",
    response={200: list[SlipOut], **errors(403, 404, 422)},
    summary="工单的投诉告知单",
    description="每个责任部门一张（含已撤回的），附延期申请和可打印告知单的地址。",
    operation_id="tickets_slips",
)
def ticket_slips(request, ticket_id: int):
    ticket = ticket_for(request, ticket_id)
    extensions = DeadlineExtension.objects.select_related("requested_by", "decided_by").order_by("-requested_at", "-id")
    routings = selectors.routings_for(ticket).prefetch_related(Prefetch("extensions", queryset=extensions))
    return [slip_out(r) for r in routings]


@router.get(
    "/tickets/slips/{routing_id}/pdf",
    response={302: None, **errors(403, 404, 422)},
    summary="打印投诉告知单",
    description="重定向（302）到可打印的告知单页面；只有能看到该工单的人可以打开。",
    operation_id="tickets_slip_pdf",
)
def slip_pdf(request, routing_id: int):
    user = request.user
    access.require(user, VIEW)
    if not 0 < routing_id <= MAX_ID:
        raise not_found()
    routing = selectors.routing_get(user=user, pk=routing_id)
    return HttpResponseRedirect(slip_pdf_path(routing.pk))


@router.get(
    "/tickets/{ticket_id}/comments",
    response={200: EventPage, **errors(403, 404, 422)},
    summary="工单备注",
    description="内部备注（能看到工单的人都能看到），按时间先后；按游标分页。",
    operation_id="tickets_comments",
)
def ticket_comments(
    request,
    ticket_id: int,
    cursor: str | None = Query(None, max_length=1000),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    ticket = ticket_for(request, ticket_id)
    comments = selectors.events_for(ticket).filter(code=COMMENT)
    page = page_of(comments, order=CHRONOLOGICAL, cursor=cursor, limit=limit)
    return {"items": [event_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/tickets/{ticket_id}/comments",
    response={201: EventOut, **errors(400, 403, 404, 409, 422)},
    summary="添加备注",
    description="任何状态的工单都可以备注。支持 `Idempotency-Key`（同一键的首个请求尚未完成时返回 409）。",
    operation_id="tickets_comment_add",
)
def ticket_comment_add(request, ticket_id: int, payload: CommentIn, idempotency_key: IdempotencyKey = None):
    user = request.user
    ticket = ticket_for(request, ticket_id)

    def create():
        return event_out(ticket_comment(actor=user, ticket=ticket, body=payload.body))

    return idempotent(request, key=idempotency_key, schema=EventOut, create=create)


@router.get(
    "/tickets/{ticket_id}/attachments",
    response={200: list[AttachmentOut], **errors(403, 404, 422)},
    summary="工单附件",
    description="文件信息与下载地址（`url`，网页路径，始终以附件形式下载）。",
    operation_id="tickets_attachments",
)
def ticket_attachments(request, ticket_id: int):
    ticket = ticket_for(request, ticket_id)
    attachments = ticket.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
    return [attachment_out(a) for a in attachments]


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: AttachmentOut, **errors(400, 403, 404, 409, 422)},
    summary="上传附件",
    description="multipart/form-data，字段 `file`（一次一个文件）；可选 `event_id` 把文件作为某条处理记录的凭证。"
    "只接受允许的类型且内容须与扩展名相符，超过大小上限或不符时返回 422 `ticket_attachment_rejected`；"
    "已结束的工单返回 409 `ticket_illegal_transition`。",
    operation_id="tickets_attachment_upload",
)
def ticket_attachment_upload(
    request,
    ticket_id: int,
    file: File[UploadedFile],
    event_id: Annotated[int | None, Form(ge=1, le=MAX_ID, description="处理记录 id（见 …/events）")] = None,
):
    user = request.user
    ticket = ticket_for(request, ticket_id)
    event = pick(ticket.events.all(), event_id, "event_id")
    attachment = attachment_add(actor=user, ticket=ticket, upload=file, event=event)
    return 201, attachment_out(attachment)
