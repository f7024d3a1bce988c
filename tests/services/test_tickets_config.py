"""The ticket configuration services: kinds and their fields, the category tree, SLA
policies, escalation rules and the settings row — each write audited, refused with a
Chinese message and nothing changed when the input or the state does not allow it."""

import datetime
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from kefu.core.errors import AccessDenied, Conflict, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.models import EscalationRule, SlaPolicy, TicketCategory, TicketKind, TicketSettings
from kefu.tickets.services import config as svc
from kefu.tickets.services.tickets import ticket_update
from tests.factories_tickets import category, kind, make_ticket

pytestmark = pytest.mark.django_db


def _events(code: str) -> int:
    return AuditEvent.objects.filter(code=code).count()


def _stale(obj) -> datetime.datetime:
    return obj.updated_at - datetime.timedelta(seconds=1)


# --- kinds ---------------------------------------------------------------------------------


def test_create_kind_normalises_prefix_and_fields_and_is_audited(ticket_world):
    kind_ = svc.ticket_kind_create(
        actor=ticket_world["manager"],
        code="Visit",
        name="上门回访",
        prefix=" hf ",
        requires_routing=False,
        fields=[
            {"key": "floor", "label": " 楼层 ", "type": "number", "choices": ["无用"]},
            {"key": "room", "label": "房间", "type": "choice", "choices": "客厅、卧室, 厨房", "required": True},
        ],
    )
    kind_.refresh_from_db()
    assert (kind_.code, kind_.prefix, kind_.requires_routing) == ("visit", "HF", False)
    assert kind_.fields == [
        {"key": "floor", "label": "楼层", "type": "number", "choices": [], "required": False},
        {"key": "room", "label": "房间", "type": "choice", "choices": ["客厅", "卧室", "厨房"], "required": True},
    ]
    event = AuditEvent.objects.get(code="ticket_kind.created")
    assert event.object_id == str(kind_.pk) and event.data["prefix"] == "HF"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"prefix": "TOOLONG"}, "1–6 个大写字母"),
        ({"prefix": "T1"}, "1–6 个大写字母"),
        ({"prefix": "ts"}, "编号前缀 TS 已被其他类型使用"),
        ({"name": "  "}, "请填写名称"),
        ({"name": "投诉"}, "已有名为“投诉”的工单类型"),
        ({"code": "complaint"}, "代码 complaint 已存在"),
        ({"code": "中文"}, "代码只能由"),
        ({"fields": [{"key": "Bad Key", "label": "x"}]}, "第 1 个附加字段的字段键"),
        ({"fields": [{"key": "a", "label": "甲"}, {"key": "a", "label": "乙"}]}, "附加字段键 a 重复"),
        ({"fields": [{"key": "a", "label": "甲", "type": "colour"}]}, "类型无效"),
        ({"fields": [{"key": "a", "label": "甲", "type": "choice"}]}, "请至少填写一个可选值"),
        ({"fields": [{"key": "a", "label": "甲", "type": "choice", "choices": ["x", "x"]}]}, "可选值“x”重复"),
        ({"fields": [{"key": "a", "label": ""}]}, "请填写名称"),
        ({"fields": [{"key": "a", "label": "甲", "colour": "red"}]}, "只能包含"),
        ({"fields": "key=a"}, "附加字段格式不正确"),
        ({"sort_order": -1}, "排序应在 0 到 32767 之间"),
    ],
)
def test_create_kind_refuses_bad_input_and_creates_nothing(ticket_world, values, message):
    given = {"code": "visit", "name": "回访", "prefix": "HF", **values}
    before = TicketKind.objects.count()
    with pytest.raises(ValidationFailed) as err:
        svc.ticket_kind_create(actor=ticket_world["manager"], **given)
    assert message in err.value.message
    assert TicketKind.objects.count() == before
    assert _events("ticket_kind.created") == 0


def test_only_who_manages_settings_may_write(ticket_world):
    w = ticket_world
    with pytest.raises(AccessDenied):
        svc.ticket_kind_create(actor=w["supervisor"], code="visit", name="回访", prefix="HF")
    with pytest.raises(AccessDenied):
        svc.ticket_settings_update(actor=w["agent"], values={"warn_percent": 50})
    with pytest.raises(AccessDenied):
        svc.ticket_category_set_active(actor=w["director"], category=category("其他"), active=False)
    assert not TicketKind.objects.filter(code="visit").exists()
    assert TicketSettings.current().warn_percent == 80 and category("其他").is_active
    assert not AuditEvent.objects.filter(code__startswith="ticket_").exclude(code__startswith="ticket_kind").exists()


def test_prefix_is_fixed_once_tickets_of_the_kind_exist(ticket_world):
    w = ticket_world
    repair = kind("repair")
    svc.ticket_kind_update(actor=w["manager"], kind=repair, values={"prefix": "WX"})
    assert TicketKind.objects.get(pk=repair.pk).prefix == "WX"
    make_ticket(w["agent"], kind_code="repair", region=w["north"])
    with pytest.raises(ValidationFailed, match="编号前缀不能再修改"):
        svc.ticket_kind_update(actor=w["manager"], kind=repair, values={"prefix": "BX", "name": "维修"})
    repair.refresh_from_db()
    assert (repair.prefix, repair.name) == ("WX", "报修")
    # Everything else may still change, and the same prefix is no change at all
    changes = svc.ticket_kind_update(actor=w["manager"], kind=repair, values={"prefix": "WX", "name": "维修"})
    assert changes == {"name": ("报修", "维修")}
    assert _events("ticket_kind.updated") == 2


def test_field_type_and_used_choices_stay_once_tickets_hold_values(ticket_world):
    w = ticket_world
    complaint = kind("complaint")
    ticket = make_ticket(w["agent"], region=w["north"], extra={"project_stage": "中期"})
    specs = [dict(f) for f in complaint.fields]
    stage = next(f for f in specs if f["key"] == "project_stage")
    # An unused choice may go, a used one may not
    stage["choices"] = ["开工期", "中期", "尾期"]
    svc.ticket_kind_update(actor=w["manager"], kind=complaint, values={"fields": specs})
    stage["choices"] = ["开工期", "尾期"]
    with pytest.raises(ValidationFailed, match="可选值“中期”已被工单使用"):
        svc.ticket_kind_update(actor=w["manager"], kind=complaint, values={"fields": specs})
    stage["choices"], stage["type"] = [], "text"
    with pytest.raises(ValidationFailed, match="类型不能再修改"):
        svc.ticket_kind_update(actor=w["manager"], kind=complaint, values={"fields": specs})
    complaint.refresh_from_db()
    assert next(f for f in complaint.fields if f["key"] == "project_stage")["choices"] == ["开工期", "中期", "尾期"]
    # A field nobody filled in may change its type; the ticket's value is kept
    agency = next(f for f in specs if f["key"] == "agency_reply")
    stage.update(type="choice", choices=["开工期", "中期", "尾期"])
    agency["type"] = "text"
    svc.ticket_kind_update(actor=w["manager"], kind=complaint, values={"fields": specs})
    ticket.refresh_from_db()
    assert ticket.extra == {"project_stage": "中期"}


def test_stale_kind_form_is_a_conflict(ticket_world):
    repair = kind("repair")
    with pytest.raises(Conflict):
        svc.ticket_kind_update(
            actor=ticket_world["manager"], kind=repair, values={"name": "维修"}, expected_updated_at=_stale(repair)
        )
    assert TicketKind.objects.get(pk=repair.pk).name == "报修"
    changes = svc.ticket_kind_update(
        actor=ticket_world["manager"], kind=repair, values={"name": "维修"}, expected_updated_at=repair.updated_at
    )
    assert changes and repair.name == "维修"


def test_kind_deactivation_keeps_at_least_one(ticket_world):
    w = ticket_world
    codes = ["repair", "inquiry", "return", "suggestion"]
    for code in codes:
        svc.ticket_kind_set_active(actor=w["manager"], kind=kind(code), active=False)
    with pytest.raises(ValidationFailed, match="至少要保留一个"):
        svc.ticket_kind_set_active(actor=w["manager"], kind=kind("complaint"), active=False)
    assert kind("complaint").is_active
    assert _events("ticket_kind.deactivated") == 4
    svc.ticket_kind_set_active(actor=w["manager"], kind=kind("repair"), active=True)
    assert kind("repair").is_active and _events("ticket_kind.reactivated") == 1


# --- categories ----------------------------------------------------------------------------


def test_child_takes_parent_kind_and_path(ticket_world):
    child = svc.ticket_category_create(actor=ticket_world["manager"], name=" 地面  空鼓 ", parent=category("施工质量"))
    assert (child.name, child.path, child.kind.code) == ("地面 空鼓", "施工质量 › 地面 空鼓", "complaint")
    assert _events("ticket_category.created") == 1


@pytest.mark.parametrize(
    ("name", "parent", "kind_code", "message"),
    [
        ("其他", None, None, "同一上级下已有分类“其他”"),  # a root: the unique constraint alone would let it pass
        ("墙面开裂", "施工质量", None, "同一上级下已有分类“墙面开裂”"),
        ("新分类", "施工质量", "repair", "只适用于“投诉”"),
        ("a › b", None, None, "名称不能包含“›”"),
        ("", None, None, "请填写名称"),
        ("长" * 41, None, None, "名称不能超过 40 个字"),
    ],
)
def test_category_create_refusals(ticket_world, name, parent, kind_code, message):
    before = TicketCategory.objects.count()
    with pytest.raises(ValidationFailed) as err:
        svc.ticket_category_create(
            actor=ticket_world["manager"],
            name=name,
            parent=category(parent) if parent else None,
            kind=kind(kind_code) if kind_code else None,
        )
    assert message in err.value.message
    assert TicketCategory.objects.count() == before and _events("ticket_category.created") == 0


def test_rename_and_move_keep_every_descendant_path(ticket_world):
    w = ticket_world
    quality = category("施工质量")
    cracks = category("墙面开裂")
    deep = svc.ticket_category_create(actor=w["manager"], name="细缝", parent=cracks)
    svc.ticket_category_update(actor=w["manager"], category=quality, values={"name": "工程质量"})
    assert TicketCategory.objects.get(pk=cracks.pk).path == "工程质量 › 墙面开裂"
    assert TicketCategory.objects.get(pk=deep.pk).path == "工程质量 › 墙面开裂 › 细缝"
    assert _events("ticket_category.followed") == 5  # four children and one grandchild
    # Moving a branch under another parent carries its subtree along
    delays = category("工期延误")
    svc.ticket_category_update(actor=w["manager"], category=cracks, values={"parent": delays})
    assert TicketCategory.objects.get(pk=cracks.pk).path == "工期延误 › 墙面开裂"
    assert TicketCategory.objects.get(pk=deep.pk).path == "工期延误 › 墙面开裂 › 细缝"
    # ... and to the top
    svc.ticket_category_update(actor=w["manager"], category=cracks, values={"parent": None})
    assert TicketCategory.objects.get(pk=deep.pk).path == "墙面开裂 › 细缝"


def test_no_cycles_and_no_clash_at_the_new_place(ticket_world):
    w = ticket_world
    quality, cracks = category("施工质量"), category("墙面开裂")
    deep = svc.ticket_category_create(actor=w["manager"], name="细缝", parent=cracks)
    for target in (quality, cracks, deep):
        with pytest.raises(ValidationFailed, match="不能把分类移到它自己或它的下级分类之下"):
            svc.ticket_category_update(actor=w["manager"], category=quality, values={"parent": target})
    svc.ticket_category_create(actor=w["manager"], name="墙面开裂", parent=category("工期延误"))
    with pytest.raises(ValidationFailed, match="同一上级下已有分类“墙面开裂”"):
        svc.ticket_category_update(actor=w["manager"], category=cracks, values={"parent": category("工期延误")})
    quality.refresh_from_db()
    assert quality.parent_id is None and TicketCategory.objects.get(pk=deep.pk).path == "施工质量 › 墙面开裂 › 细缝"
    assert _events("ticket_category.updated") == 0


def test_kind_goes_to_the_subtree_unless_tickets_of_another_kind_use_it(ticket_world):
    w = ticket_world
    other = category("其他")
    child = svc.ticket_category_create(actor=w["manager"], name="其他问题", parent=other)
    assert child.kind_id is None
    inquiry = make_ticket(w["agent"], kind_code="inquiry", customer=None, caller_name="路人", category=child)
    with pytest.raises(ValidationFailed, match="已有其他类型的工单使用该分类"):
        svc.ticket_category_update(actor=w["manager"], category=other, values={"kind": kind("complaint")})
    assert TicketCategory.objects.get(pk=child.pk).kind_id is None
    ticket_update(actor=w["agent"], ticket=inquiry, values={"category": None}, expected_version=inquiry.version)
    svc.ticket_category_update(actor=w["manager"], category=other, values={"kind": kind("complaint")})
    assert TicketCategory.objects.get(pk=child.pk).kind == kind("complaint")
    # A child cannot leave its parent's kind on its own
    with pytest.raises(ValidationFailed, match="只适用于“投诉”"):
        svc.ticket_category_update(actor=w["manager"], category=child, values={"kind": None})


def test_deactivation_hides_the_branch_and_reactivation_needs_a_live_parent(ticket_world):
    w = ticket_world
    quality, cracks = category("施工质量"), category("墙面开裂")
    svc.ticket_category_set_active(actor=w["manager"], category=quality, active=False)
    assert not TicketCategory.objects.filter(path__startswith="施工质量", is_active=True).exists()
    assert _events("ticket_category.deactivated") == 5
    with pytest.raises(ValidationFailed, match="请先启用上级分类"):
        svc.ticket_category_set_active(actor=w["manager"], category=cracks, active=True)
    with pytest.raises(ValidationFailed, match="已停用"):
        svc.ticket_category_create(actor=w["manager"], name="新", parent=quality)
    svc.ticket_category_set_active(actor=w["manager"], category=quality, active=True)
    svc.ticket_category_set_active(actor=w["manager"], category=cracks, active=True)
    assert TicketCategory.objects.get(pk=cracks.pk).is_active
    assert _events("ticket_category.reactivated") == 2


def test_path_longer_than_the_column_is_refused(ticket_world):
    w = ticket_world
    node = None
    for i in range(4):
        node = svc.ticket_category_create(actor=w["manager"], name=f"{i}" + "层" * 39, parent=node)
    with pytest.raises(ValidationFailed, match="完整路径不能超过 200 个字"):
        svc.ticket_category_create(actor=w["manager"], name="再" * 40, parent=node)
    # A branch that fits at the top but whose child would not fit at the new place
    branch = svc.ticket_category_create(actor=w["manager"], name="枝" * 40)
    svc.ticket_category_create(actor=w["manager"], name="叶" * 40, parent=branch)
    with pytest.raises(ValidationFailed, match="完整路径不能超过 200 个字"):
        svc.ticket_category_update(actor=w["manager"], category=branch, values={"parent": node.parent})
    assert TicketCategory.objects.get(pk=branch.pk).parent_id is None
    assert _events("ticket_category.followed") == 0


def test_tree_rows_put_children_after_their_parent(ticket_world):
    rows = svc.category_tree_rows()
    names = [(node.name, depth) for node, depth in rows]
    assert names.index(("施工质量", 0)) + 1 == names.index(("墙面开裂", 1))
    assert len(rows) == TicketCategory.objects.count()


# --- SLA policies --------------------------------------------------------------------------


def test_policy_create_and_update_are_audited(ticket_world):
    w = ticket_world
    policy = svc.sla_policy_create(
        actor=w["manager"],
        name="投诉·防水",
        kind=kind("complaint"),
        category=category("防水渗漏"),
        response_minutes=30,
        resolve_minutes=900,
    )
    assert policy.severity == "" and _events("sla_policy.created") == 1
    changes = svc.sla_policy_update(
        actor=w["manager"], policy=policy, values={"resolve_minutes": 450}, expected_updated_at=policy.updated_at
    )
    assert changes == {"resolve_minutes": (900, 450)}
    with pytest.raises(Conflict):
        svc.sla_policy_update(
            actor=w["manager"], policy=policy, values={"resolve_minutes": 60}, expected_updated_at=_stale(policy)
        )
    assert SlaPolicy.objects.get(pk=policy.pk).resolve_minutes == 450


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"response_minutes": 0}, "应在 1 到 525600 之间"),
        ({"resolve_minutes": 525601}, "应在 1 到 525600 之间"),
        ({"response_minutes": "abc"}, "必须是整数"),
        ({"response_minutes": 1.5}, "必须是整数"),
        ({"response_minutes": 500, "resolve_minutes": 400}, "响应时限不能长于解决时限"),
        ({"severity": "extreme"}, "严重程度无效"),
        ({"name": "投诉·一般"}, "已有名为“投诉·一般”的时限规则"),
        ({"kind": "complaint", "severity": "normal"}, "已有条件相同的启用规则“投诉·一般”"),
        ({"kind": "repair", "category": "墙面开裂"}, "不适用于“报修”"),
    ],
)
def test_policy_refusals(ticket_world, values, message):
    given = {"name": "新规则", "response_minutes": 60, "resolve_minutes": 600, **values}
    if "kind" in given:
        given["kind"] = kind(given["kind"])
    if "category" in given:
        given["category"] = category(given["category"])
    before = SlaPolicy.objects.count()
    with pytest.raises(ValidationFailed) as err:
        svc.sla_policy_create(actor=ticket_world["manager"], **given)
    assert message in err.value.message
    assert SlaPolicy.objects.count() == before and _events("sla_policy.created") == 0


def test_policy_reactivation_refuses_a_twin(ticket_world):
    w = ticket_world
    normal = SlaPolicy.objects.get(name="投诉·一般")
    svc.sla_policy_set_active(actor=w["manager"], policy=normal, active=False)
    svc.sla_policy_create(
        actor=w["manager"],
        name="投诉·一般（新）",
        kind=kind("complaint"),
        severity="normal",
        response_minutes=60,
        resolve_minutes=900,
    )
    with pytest.raises(ValidationFailed, match="已有条件相同的启用规则"):
        svc.sla_policy_set_active(actor=w["manager"], policy=normal, active=True)
    assert not SlaPolicy.objects.get(pk=normal.pk).is_active
    # The inactive one may still be edited
    svc.sla_policy_update(actor=w["manager"], policy=normal, values={"resolve_minutes": 1000})
    assert SlaPolicy.objects.get(pk=normal.pk).resolve_minutes == 1000


# --- escalation rules ----------------------------------------------------------------------


def test_rule_levels_have_no_gaps_and_timings_never_go_back(ticket_world):
    w = ticket_world
    director = Group.objects.get(name="director")
    assert list(EscalationRule.objects.values_list("level", "after_minutes")) == [(1, 0), (2, 240), (3, 900)]
    with pytest.raises(ValidationFailed, match="级别应在 1 到 4 之间"):
        svc.escalation_rule_create(actor=w["manager"], level=5, role=director, after_minutes=2000)
    with pytest.raises(ValidationFailed, match="第 3 级已存在"):
        svc.escalation_rule_create(actor=w["manager"], level=3, role=director, after_minutes=2000)
    with pytest.raises(ValidationFailed, match="第 4 级不能早于第 3 级"):
        svc.escalation_rule_create(actor=w["manager"], level=4, role=director, after_minutes=899)
    with pytest.raises(ValidationFailed, match="请选择一个角色"):
        svc.escalation_rule_create(
            actor=w["manager"], level=4, role=Group.objects.create(name="外人"), after_minutes=900
        )
    rule = svc.escalation_rule_create(actor=w["manager"], level=4, role=director, after_minutes=900)
    assert rule.level == 4 and _events("escalation_rule.created") == 1
    second = EscalationRule.objects.get(level=2)
    with pytest.raises(ValidationFailed, match="第 2 级不能晚于第 3 级"):
        svc.escalation_rule_update(actor=w["manager"], rule=second, values={"after_minutes": 901})
    with pytest.raises(ValidationFailed, match="不能在此修改：level"):
        svc.escalation_rule_update(actor=w["manager"], rule=second, values={"level": 7})
    assert EscalationRule.objects.get(level=2).after_minutes == 240


def test_skipped_level_must_fit_again_to_come_back(ticket_world):
    w = ticket_world
    second = EscalationRule.objects.get(level=2)
    svc.escalation_rule_set_active(actor=w["manager"], rule=second, active=False)
    # Inactive, its timing is no constraint; active again, it is
    svc.escalation_rule_update(actor=w["manager"], rule=second, values={"after_minutes": 1000})
    with pytest.raises(ValidationFailed, match="第 2 级不能晚于第 3 级"):
        svc.escalation_rule_set_active(actor=w["manager"], rule=second, active=True)
    svc.escalation_rule_update(
        actor=w["manager"], rule=second, values={"after_minutes": 300, "role": Group.objects.get(name="manager")}
    )
    svc.escalation_rule_set_active(actor=w["manager"], rule=second, active=True)
    assert EscalationRule.objects.get(level=2).is_active
    assert _events("escalation_rule.deactivated") == 1 and _events("escalation_rule.reactivated") == 1


# --- settings ------------------------------------------------------------------------------


def test_settings_update_records_who_and_what(ticket_world):
    w = ticket_world
    row = TicketSettings.current()
    changes = svc.ticket_settings_update(
        actor=w["manager"], values={"warn_percent": 70, "failed_attempts_limit": 3}, expected_updated_at=row.updated_at
    )
    assert changes == {"warn_percent": (80, 70), "updated_by": (None, w["manager"].pk)}
    assert TicketSettings.current().updated_by == w["manager"]
    # Nothing different: no write, no event
    assert svc.ticket_settings_update(actor=w["manager"], values={"warn_percent": 70}) == {}
    assert _events("ticket_settings.updated") == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"warn_percent": 100}, "预警比例（%）应在 10 到 99 之间"),
        ({"failed_attempts_limit": 0}, "应在 1 到 20 之间"),
        ({"attachment_max_mb": 201}, "应在 1 到 200 之间"),
        ({"slip_minutes": 0}, "应在 1 到 525600 之间"),
        ({"default_response_minutes": 5000}, "默认响应时限不能长于默认解决时限"),
        ({"version": 3}, "不能在此修改"),
    ],
)
def test_settings_refusals(ticket_world, values, message):
    with pytest.raises(ValidationFailed) as err:
        svc.ticket_settings_update(actor=ticket_world["manager"], values=values)
    assert message in err.value.message
    assert _events("ticket_settings.updated") == 0


def test_stale_settings_form_is_a_conflict(ticket_world):
    row = TicketSettings.current()
    svc.ticket_settings_update(actor=ticket_world["manager"], values={"warn_percent": 75})
    with pytest.raises(Conflict):
        svc.ticket_settings_update(
            actor=ticket_world["manager"], values={"warn_percent": 60}, expected_updated_at=row.updated_at
        )
    assert TicketSettings.current().warn_percent == 75


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_top_level_categories_with_one_name_make_one(roles, make_user):
    manager = make_user("manager", username="c-manager", scope_all=True)
    TicketSettings.objects.create(pk=1)
    barrier = threading.Barrier(6)
    outcomes = []

    def create():
        from django.db import connections

        try:
            barrier.wait()
            svc.ticket_category_create(actor=manager, name="同名分类")
            outcomes.append("ok")
        except ValidationFailed as err:
            outcomes.append(err.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == 6
    assert TicketCategory.objects.filter(name="同名分类").count() == 1
