"""Scheduled reports: managing subscriptions and delivering them once per period.

A subscription names a report, a frequency and either one person or a role (the group
named by the role code). `deliver_due` runs daily from `kefu.schedule`: for every
active subscription it takes the period that has just ended (and those a missed run
left owing, see `due_periods`) and, for each recipient
who has not received it yet, builds the report *as that recipient* (so it covers only
what they may see), renders it to Excel and stores it as a `ReportDelivery`. The unique
key (subscription, recipient, period) is the source of truth for "already delivered":
two runs at once, or a run repeated, insert one row and send one message. The row, its
audit event, the inbox message and the queued email commit together, so a failure
leaves nothing behind and the next run tries that recipient again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.roles import ROLES_BY_CODE, role_name
from kefu.notify.models import Channel
from kefu.notify.services import notify_user, outbox_enqueue
from kefu.reports.catalog import REPORTS, build_report
from kefu.reports.exporters import report_file_name, report_xlsx
from kefu.reports.models import Frequency, ReportDelivery, ReportSubscription
from kefu.reports.periods import Period, period_for

logger = logging.getLogger(__name__)

VIEW = "reports.view_reports"
MANAGE = "reports.manage_subscriptions"

# Which period a frequency delivers: the one of this kind that ended before today.
PERIOD_KIND = {
    Frequency.WEEKLY: "week",
    Frequency.MONTHLY: "month",
    Frequency.QUARTERLY: "quarter",
    Frequency.YEARLY: "year",
}


# How many finished periods one run may still deliver per subscription (see due_periods).
CATCH_UP = {Frequency.WEEKLY: 4, Frequency.MONTHLY: 3, Frequency.QUARTERLY: 2, Frequency.YEARLY: 1}


class SubscriptionErrorCode(StrEnum):
    REPORT_UNKNOWN = "report_unknown"
    RECIPIENT_INVALID = "subscription_recipient_invalid"
    DUPLICATE = "subscription_duplicate"


# -- who receives what


def report_holders() -> QuerySet:
    """Active users who hold `reports.view_reports` — through a role, directly, or as
    superuser. Subqueries rather than joins, so that combining this with a filter on
    the user's groups does not require one group to both be the role and grant it."""
    User = get_user_model()
    app_label, codename = VIEW.split(".")
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    via_group = User.groups.through.objects.filter(group__permissions__in=perm).values("user_id")
    direct = User.user_permissions.through.objects.filter(permission__in=perm).values("user_id")
    return User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(pk__in=via_group) | Q(pk__in=direct))


def recipients_map(subscriptions: Sequence[ReportSubscription]) -> dict[int, list]:
    """subscription id → its recipients (users, ordered by id), for many subscriptions
    in three queries: the role members, the people, and the users themselves."""
    User = get_user_model()
    roles = {s.role for s in subscriptions if s.role}
    person_ids = {s.user_id for s in subscriptions if s.user_id}
    holders = report_holders()
    members: dict[str, set[int]] = defaultdict(set)
    if roles:
        rows = User.groups.through.objects.filter(group__name__in=roles, user_id__in=holders.values("pk")).values_list(
            "group__name", "user_id"
        )
        for role, user_id in rows:
            members[role].add(user_id)
    persons: set[int] = set()
    if person_ids:
        persons = set(holders.filter(pk__in=person_ids).values_list("pk", flat=True))
    wanted = persons.union(*members.values())
    users = {u.pk: u for u in User.objects.filter(pk__in=wanted)} if wanted else {}
    result: dict[int, list] = {}
    for sub in subscriptions:
        ids = members.get(sub.role, set()) if sub.role else ({sub.user_id} & persons)
        result[sub.pk] = [users[i] for i in sorted(ids) if i in users]
    return result


def recipients_of(subscription: ReportSubscription) -> list:
    """The users who would receive `subscription` now."""
    return recipients_map([subscription])[subscription.pk]


def due_period(frequency: str, today) -> Period:
    """The period a subscription of `frequency` delivers on `today`: the last one that
    has ended (weekly: last ISO week, monthly: last month, …)."""
    return period_for(PERIOD_KIND[Frequency(frequency)], today).previous()


def due_periods(frequency: str, today, *, created_on) -> list[Period]:
    """Every period a subscription of `frequency`, created on `created_on`, still owes
    on `today`, newest first: the last finished one, and before it those that ended
    after the subscription was created (a morning the job did not run — the server was
    down over a week's end — is made up the next day), at most CATCH_UP of them so a
    long outage does not flood inboxes."""
    period = due_period(frequency, today)
    owed = [period]
    while len(owed) < CATCH_UP[Frequency(frequency)]:
        period = period.previous()
        if period.end <= created_on:  # finished before the subscription existed
            break
        owed.append(period)
    return owed


# -- managing subscriptions


def _role_grants_view(role: str) -> bool:
    app_label, codename = VIEW.split(".")
    return Group.objects.filter(
        name=role, permissions__content_type__app_label=app_label, permissions__codename=codename
    ).exists()


def _subscription_repr(sub: ReportSubscription) -> str:
    spec = REPORTS.get(sub.report_key)
    target = role_name(sub.role) if sub.role else str(sub.user)
    return f"{spec.title if spec else sub.report_key} · {sub.get_frequency_display()} · {target}"


def subscription_create(
    *, actor, report_key: str, frequency: str, role: str = "", user=None, by_email: bool = False
) -> ReportSubscription:
    """Subscribe a role or one person to a report. Refused (with the field at fault):
    an unknown report or frequency, both or neither of role and person, a role or a
    person who may not view reports (they would never receive anything), and the same
    report at the same frequency for the same role or person twice."""
    access.require(actor, MANAGE)
    report_key = (report_key or "").strip()
    role = (role or "").strip()
    if report_key not in REPORTS:
        raise ValidationFailed(
            _("没有这个报表：“%(key)s”，请从列表中选择。") % {"key": report_key[:40]},
            code=SubscriptionErrorCode.REPORT_UNKNOWN,
            details={"field": "report_key"},
        )
    if frequency not in Frequency.values:
        raise ValidationFailed(_("请选择有效的发送频率。"), details={"field": "frequency"})
    if bool(role) == (user is not None):
        raise ValidationFailed(
            _("请选择接收角色或接收人（二选一）。"),
            code=SubscriptionErrorCode.RECIPIENT_INVALID,
            details={"field": "role"},
        )
    if role:
        if role not in ROLES_BY_CODE:
            raise ValidationFailed(
                _("没有这个角色：“%(role)s”。") % {"role": role[:40]},
                code=SubscriptionErrorCode.RECIPIENT_INVALID,
                details={"field": "role"},
            )
        if not _role_grants_view(role):
            raise ValidationFailed(
                _("角色“%(role)s”没有查看统计报表的权限，无法接收报表。") % {"role": role_name(role)},
                code=SubscriptionErrorCode.RECIPIENT_INVALID,
                details={"field": "role"},
            )
    elif not report_holders().filter(pk=user.pk).exists():
        raise ValidationFailed(
            _("%(user)s 已停用或没有查看统计报表的权限，无法接收报表。") % {"user": user},
            code=SubscriptionErrorCode.RECIPIENT_INVALID,
            details={"field": "user"},
        )
    duplicate = _("已有相同的订阅：同一报表、同一频率、同一接收对象。")
    with transaction.atomic():
        try:
            # A savepoint: two managers saving the same subscription at once get one
            # row, and the loser a message instead of a broken transaction.
            with transaction.atomic():
                sub = ReportSubscription.objects.create(
                    report_key=report_key,
                    frequency=frequency,
                    role=role,
                    user=user if not role else None,
                    by_email=bool(by_email),
                    created_by=actor,
                )
        except IntegrityError:
            raise Conflict(duplicate, code=SubscriptionErrorCode.DUPLICATE) from None
        audit_record(
            code="report.subscription.created",
            obj=sub,
            actor=actor,
            object_repr=_subscription_repr(sub),
            data={
                "report_key": report_key,
                "frequency": frequency,
                "role": role,
                "user": sub.user_id,
                "by_email": sub.by_email,
            },
        )
    return sub


def subscription_delete(*, actor, subscription: ReportSubscription) -> None:
    """End a subscription. What was already delivered stays with its recipients (the
    deliveries keep their copy of the report and lose only the link)."""
    access.require(actor, MANAGE)
    with transaction.atomic():
        locked = ReportSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if locked is None:
            raise NotFound(_("该订阅不存在或已被删除。"))
        audit_record(
            code="report.subscription.deleted",
            obj=locked,
            actor=actor,
            object_repr=_subscription_repr(locked),
            data={"report_key": locked.report_key, "frequency": locked.frequency, "role": locked.role},
        )
        locked.delete()


def subscription_set_active(*, actor, subscription: ReportSubscription, active: bool) -> ReportSubscription:
    """Pause a subscription (nothing is delivered while paused) or resume it: the next
    run delivers the last finished period, not what ended while it was paused. Audited;
    asking for the state it is in already changes nothing."""
    access.require(actor, MANAGE)
    with transaction.atomic():
        locked = ReportSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if locked is None:
            raise NotFound(_("该订阅不存在或已被删除。"))
        if locked.is_active != active:
            locked.is_active = active
            if active:
                locked.active_since = timezone.now()
            locked.save(update_fields=["is_active", "active_since"])
            audit_record(
                code="report.subscription.resumed" if active else "report.subscription.paused",
                obj=locked,
                actor=actor,
                object_repr=_subscription_repr(locked),
                data={"report_key": locked.report_key, "frequency": locked.frequency},
            )
    return locked


def subscription_list() -> QuerySet:
    """Every subscription with its last delivery time and number of deliveries, for the
    managers' page (subscriptions are not scoped: each recipient's figures are)."""
    return (
        ReportSubscription.objects.select_related("user", "created_by")
        .annotate(last_delivered_at=Max("deliveries__delivered_at"), delivery_count=Count("deliveries"))
        .order_by("report_key", "frequency", "id")
    )


# -- delivering


@dataclass
class DeliveryRun:
    """What one `deliver_due` run did (for the job's log and the tests)."""

    delivered: list[tuple[int, int, str]] = field(default_factory=list)  # (subscription, recipient, period)
    already: int = 0  # found delivered (by an earlier or a concurrent run)
    failed: list[tuple[int, int, str]] = field(default_factory=list)


def _site_url() -> str:
    return getattr(settings, "KEFU_SITE_URL", "").rstrip("/")


def _email_address(user) -> str:
    email = (user.email or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except DjangoValidationError:
        # A bad address on the staff record must not block the in-app delivery.
        logger.warning("user %s has an invalid email address; report sent in-app only", user.pk)
        return ""
    return email


def _deliver_one(*, sub: ReportSubscription, recipient, period: Period) -> bool:
    """Build, render and store one delivery, then tell the recipient. False when another
    run stored it first (nothing else is done then)."""
    # Built as the recipient: every figure goes through their scope and permissions.
    report = build_report(sub.report_key, user=recipient, period=period)
    content = report_xlsx(report)
    period_key = period.key()
    # The title the recipient reads in the inbox, the mail subject and the audit log.
    title = _("%(report)s（%(period)s）") % {"report": report.title, "period": period.label}
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    subscription=sub,
                    recipient=recipient,
                    report_key=sub.report_key,
                    title=report.title[: ReportDelivery._meta.get_field("title").max_length],
                    period_key=period_key,
                    period_label=period.label,
                    delivered_at=timezone.now(),
                    file_name=report_file_name(report, "xlsx"),
                    content=content,
                )
        except IntegrityError:
            return False
        audit_record(
            code="report.delivered",
            obj=delivery,
            object_repr=title,
            data={"subscription": sub.pk, "recipient": recipient.pk, "period": period_key, "bytes": len(content)},
        )
        link = reverse("reports:delivery_download", args=[delivery.pk])
        notify_user(
            recipient=recipient,
            title=_("报表已送达：%(title)s") % {"title": title},
            body=_("您订阅的%(frequency)s报表已生成，点击下载 Excel 文件。")
            % {"frequency": sub.get_frequency_display()},
            link=link,
            category="report",
            key=f"report:{sub.pk}:{recipient.pk}:{period_key}",
        )
        email = _email_address(recipient) if sub.by_email else ""
        if email:
            outbox_enqueue(
                channel=Channel.EMAIL,
                to=email,
                subject=title,
                body=_(
                    "%(name)s，您好：\n\n您订阅的报表“%(title)s”已生成。\n"
                    "请登录客服系统下载：%(url)s\n（也可在“我的报表”中查看历次报表。）"
                )
                % {"name": recipient, "title": title, "url": f"{_site_url()}{link}"},
                key=f"report-email:{sub.pk}:{recipient.pk}:{period_key}",
            )
    return True


def deliver_due(*, now: datetime | None = None) -> DeliveryRun:
    """Deliver to each recipient of every active subscription the finished periods they
    have not received (`due_periods`: the last one, and what a missed run left owing).
    Idempotent and safe to run concurrently; a recipient whose report fails is logged
    and retried by the next run, without holding up the others. A subscription created
    mid-month gets last month's report the next morning, not the months before."""
    today = timezone.localdate(now or timezone.now())
    subs = list(ReportSubscription.objects.filter(is_active=True).order_by("id"))
    run = DeliveryRun()
    if not subs:
        return run
    # Owed since creation, or since the last resume (what ended while paused is not).
    owed = {
        sub.pk: due_periods(sub.frequency, today, created_on=timezone.localdate(sub.active_since or sub.created_at))
        for sub in subs
    }
    recipients = recipients_map(subs)
    done = set(
        ReportDelivery.objects.filter(
            subscription__in=[s.pk for s in subs], period_key__in={p.key() for ps in owed.values() for p in ps}
        ).values_list("subscription_id", "recipient_id", "period_key")
    )
    for sub in subs:
        # Oldest first: the recipient's inbox and 我的报表 read in period order.
        for period in reversed(owed[sub.pk]):
            key = period.key()
            for recipient in recipients[sub.pk]:
                item = (sub.pk, recipient.pk, key)
                if item in done:
                    run.already += 1
                    continue
                try:
                    delivered = _deliver_one(sub=sub, recipient=recipient, period=period)
                except Exception:  # noqa: BLE001 — one recipient's failure must not stop the others
                    logger.exception("report delivery failed: subscription %s, user %s, period %s", *item)
                    run.failed.append(item)
                    continue
                if delivered:
                    run.delivered.append(item)
                else:
                    run.already += 1
    return run


# -- reading what was delivered


def deliveries_for(user) -> QuerySet:
    """`user`'s own deliveries, newest first, without the file itself."""
    return ReportDelivery.objects.filter(recipient_id=user.pk).defer("content")


def delivery_download(*, user, pk: int) -> ReportDelivery:
    """One of `user`'s deliveries, file included, for download — audited. Anybody
    else's delivery is not found (its existence is not revealed)."""
    access.require(user, VIEW)
    delivery = ReportDelivery.objects.filter(pk=pk, recipient_id=user.pk).first()
    if delivery is None:
        raise NotFound(_("报表不存在或不是发给您的。"))
    with transaction.atomic():
        audit_record(
            code="report.delivery.downloaded",
            obj=delivery,
            actor=user,
            object_repr=f"{delivery.title}（{delivery.period_label}）",
            data={"report_key": delivery.report_key, "period": delivery.period_key},
        )
    return delivery
