"""Questionnaires: checking a version's questions when it is published, and a visit's
answers against the version it was asked with."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import access
from kefu.core.audit import audit_record
from kefu.core.errors import ValidationFailed
from kefu.visits.choices import QuestionType
from kefu.visits.models import Questionnaire, QuestionnaireVersion

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MANAGE = "visits.manage_visit_settings"


def clean_questions(questions: Any) -> list[dict]:
    if not isinstance(questions, list) or not questions:
        raise ValidationFailed(_("问卷至少要有一道题。"), details={"field": "questions"})
    cleaned, keys = [], set()
    for index, q in enumerate(questions, start=1):
        if not isinstance(q, dict):
            raise ValidationFailed(_("第 %(n)s 题格式不正确。") % {"n": index}, details={"field": "questions"})
        key, text, kind = str(q.get("key", "")).strip(), str(q.get("text", "")).strip(), q.get("type")
        if not KEY.match(key) or key in keys:
            raise ValidationFailed(
                _("第 %(n)s 题的代码无效或重复（小写字母开头，字母数字下划线）。") % {"n": index},
                details={"field": "questions"},
            )
        if not text or len(text) > 200:
            raise ValidationFailed(
                _("第 %(n)s 题请填写题目（200 字以内）。") % {"n": index}, details={"field": "questions"}
            )
        if kind not in QuestionType.values:
            raise ValidationFailed(_("第 %(n)s 题的题型无效。") % {"n": index}, details={"field": "questions"})
        choices = [str(c).strip() for c in q.get("choices") or [] if str(c).strip()]
        if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE) and len(choices) < 2:
            raise ValidationFailed(_("第 %(n)s 题至少要有两个选项。") % {"n": index}, details={"field": "questions"})
        keys.add(key)
        cleaned.append(
            {"key": key, "text": text, "type": kind, "choices": choices, "required": bool(q.get("required"))}
        )
    return cleaned


def questionnaire_publish(*, actor, questionnaire: Questionnaire, questions: Any) -> QuestionnaireVersion:
    """A new version (the old ones stay, with the answers given to them)."""
    if actor is not None:
        access.require(actor, MANAGE)
    cleaned = clean_questions(questions)
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        last = locked.versions.order_by("-number").first()
        if last is not None and last.questions == cleaned:
            return last
        version = QuestionnaireVersion.objects.create(
            questionnaire=locked, number=(last.number + 1) if last else 1, questions=cleaned, created_by=actor
        )
        audit_record(code="questionnaire.published", obj=locked, actor=actor, data={"version": version.number})
    return version


def _bad(question: dict, message: str) -> ValidationFailed:
    return ValidationFailed(f"{question['text']}：{message}", details={"field": f"answers.{question['key']}"})


def clean_answers(version: QuestionnaireVersion | None, answers: Any, *, require: bool) -> dict[str, Any]:
    """The answers keyed by question, each checked against its type; unknown keys are
    refused; required questions must be answered when `require` (the customer was
    reached)."""
    if answers in (None, ""):
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationFailed(_("答卷格式不正确。"), details={"field": "answers"})
    if version is None:
        if answers:
            raise ValidationFailed(_("该回访没有问卷。"), details={"field": "answers"})
        return {}
    questions = {q["key"]: q for q in version.questions}
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValidationFailed(
            _("问卷中没有这些题目：%(k)s") % {"k": "、".join(sorted(unknown))}, details={"field": "answers"}
        )
    result: dict[str, Any] = {}
    for key, q in questions.items():
        raw = answers.get(key)
        if raw in (None, "", []):
            if require and q.get("required"):
                raise _bad(q, _("必答"))
            continue
        kind = q["type"]
        if kind == QuestionType.SINGLE:
            if str(raw) not in q["choices"]:
                raise _bad(q, _("请选择给定的选项"))
            result[key] = str(raw)
        elif kind == QuestionType.MULTIPLE:
            values = raw if isinstance(raw, list) else [raw]
            if any(str(v) not in q["choices"] for v in values):
                raise _bad(q, _("请选择给定的选项"))
            result[key] = [str(v) for v in values]
        elif kind in (QuestionType.SCORE, QuestionType.NPS):
            low, high = (1, 5) if kind == QuestionType.SCORE else (0, 10)
            try:
                value = int(str(raw))
            except ValueError:
                raise _bad(q, _("请填写 %(l)s–%(h)s 的整数") % {"l": low, "h": high}) from None
            if not low <= value <= high:
                raise _bad(q, _("请填写 %(l)s–%(h)s 的整数") % {"l": low, "h": high})
            result[key] = value
        else:
            text = str(raw).strip()
            if len(text) > 2000:
                raise _bad(q, _("不能超过 2000 字"))
            result[key] = text
    return result


def summary_scores(version: QuestionnaireVersion | None, answers: dict[str, Any]) -> tuple[int | None, int | None]:
    """(satisfaction, nps): the first answered 1–5 score and 0–10 NPS question."""
    satisfaction = nps = None
    for q in version.questions if version else []:
        value = answers.get(q["key"])
        if value is None:
            continue
        if q["type"] == QuestionType.SCORE and satisfaction is None:
            satisfaction = value
        if q["type"] == QuestionType.NPS and nps is None:
            nps = value
    return satisfaction, nps
