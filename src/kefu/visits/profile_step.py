"""The return visits' part of loading an industry profile: questionnaires (version 1)
and rules that do not exist yet (by code / name; a second run adds nothing and never
changes what a manager edited) and, with `--demo`, a year of demo visits."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.customers.models import CustomerClass
from kefu.visits.models import Questionnaire, VisitRule
from kefu.visits.profile_data import COMMON_QUESTIONNAIRES, PROFILES, VisitProfile
from kefu.visits.questionnaires import questionnaire_publish


def visit_config_load(spec: VisitProfile) -> dict[str, int]:
    created = {"questionnaires": 0, "rules": 0}
    questionnaires = {}
    for code, (name, questions) in {**COMMON_QUESTIONNAIRES, **spec.questionnaires}.items():
        questionnaire, new = Questionnaire.objects.get_or_create(code=code, defaults={"name": name})
        if new:
            questionnaire_publish(actor=None, questionnaire=questionnaire, questions=questions)
            created["questionnaires"] += 1
        questionnaires[code] = questionnaire
    classes = {c.code: c for c in CustomerClass.objects.all()}
    for rule in spec.rules:
        if VisitRule.objects.filter(name=rule.name).exists():
            continue
        if rule.class_code and rule.class_code not in classes:
            continue
        VisitRule.objects.create(
            name=rule.name,
            kind=rule.kind,
            visit_type=rule.visit_type,
            customer_class=classes.get(rule.class_code) if rule.class_code else None,
            key_accounts_only=rule.key_accounts_only,
            trigger=rule.trigger,
            offsets_days=list(rule.offsets_days),
            date_field=rule.date_field,
            assign_to=rule.assign_to,
            channel=rule.channel,
            questionnaire=questionnaires.get(rule.questionnaire),
        )
        created["rules"] += 1
    return created


def load_visits_profile(profile, demo: bool, result) -> None:
    spec = PROFILES.get(profile.code)
    if spec is None:
        return
    created = visit_config_load(spec)
    if any(created.values()):
        result.notes.append(_("回访：新增 %(questionnaires)d 份问卷、%(rules)d 条回访规则。") % created)
    if demo:
        from kefu.visits.demo import demo_visits_load

        count = demo_visits_load(profile.code)
        if count:
            result.notes.append(_("回访：已生成 %(count)d 条演示回访记录。") % {"count": count})
