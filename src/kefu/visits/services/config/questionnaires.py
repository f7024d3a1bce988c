"""Questionnaires as a manager keeps them: a new one (optionally with its first version),
and retiring one. What a version asks is published through
`kefu.visits.questionnaires.questionnaire_publish`, which keeps every old version for
the answers given to it."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record, audited_update
from kefu.core.errors import InvalidState
from kefu.core.services.config_rows import clean_name, invalid, lock_row
from kefu.visits.models import Questionnaire, VisitRule
from kefu.visits.questionnaires import questionnaire_publish

MANAGE = "visits.manage_visit_settings"
CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def questionnaire_create(*, actor, code: str, name: str, questions: Any = None) -> Questionnaire:
    """A new questionnaire; with `questions`, its version 1 in the same transaction."""
    access.require(actor, MANAGE)
    code = str(code or "").strip().lower()
    if not CODE.match(code):
        raise invalid(_("代码只能由小写字母、数字、下划线和连字符组成，以字母开头，不超过 40 个字符。"), "code")
    name = clean_name(Questionnaire, "name", name)
    with transaction.atomic():
        if Questionnaire.objects.filter(code=code).exists():
            raise invalid(_("代码 %(code)s 已存在。") % {"code": code}, "code")
        if Questionnaire.objects.filter(name__iexact=name).exists():
            raise invalid(_("已有名为“%(name)s”的问卷。") % {"name": name}, "name")
        questionnaire = Questionnaire.objects.create(code=code, name=name)
        audit_record(code="questionnaire.created", obj=questionnaire, actor=actor, data={"code": code})
        if questions:
            questionnaire_publish(actor=actor, questionnaire=questionnaire, questions=questions)
    return questionnaire


def questionnaire_set_active(*, actor, questionnaire: Questionnaire, active: bool) -> Questionnaire:
    """Offer the questionnaire for new rules and campaigns again, or no longer. Not
    while an active rule asks it: pause or change the rule first."""
    access.require(actor, MANAGE)
    with transaction.atomic():
        locked = lock_row(questionnaire, None)
        if locked.is_active == active:
            state = _("已启用") if active else _("已停用")
            raise InvalidState(_("问卷“%(name)s”%(state)s。") % {"name": locked.name, "state": state})
        if not active:
            users = list(
                VisitRule.objects.filter(questionnaire=locked, is_active=True).values_list("name", flat=True)[:5]
            )
            if users:
                raise invalid(
                    _("启用中的回访规则仍在使用该问卷：%(rules)s。") % {"rules": "、".join(users)}, "questionnaire"
                )
        code = "questionnaire.reactivated" if active else "questionnaire.deactivated"
        audited_update(locked, values={"is_active": active}, code=code, actor=actor)
    questionnaire.is_active, questionnaire.updated_at = locked.is_active, locked.updated_at
    return questionnaire


__all__ = ["questionnaire_create", "questionnaire_publish", "questionnaire_set_active"]
