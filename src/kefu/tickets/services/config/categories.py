"""The category tree: names unique under a parent, no cycles, and the stored `path`
of a node and of all its descendants kept right on every rename and move."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.audit import audit_record, audit_record_many
from kefu.core.services.config_rows import clean_int, clean_name, invalid, lock_row, only_fields, save_row
from kefu.tickets.models import Ticket, TicketCategory, TicketKind
from kefu.tickets.services.config.base import MAX_SORT_ORDER, config_write, set_active

PATH_SEP = " › "
CATEGORY_FIELDS = ("name", "parent", "kind", "sort_order")


def _tree() -> tuple[dict[int, TicketCategory], dict[int | None, list[TicketCategory]]]:
    """Every category (the tree is small: tens to hundreds of rows) and their children."""
    nodes = {c.pk: c for c in TicketCategory.objects.select_related("kind").order_by("sort_order", "id")}
    children: dict[int | None, list[TicketCategory]] = defaultdict(list)
    for node in nodes.values():
        children[node.parent_id].append(node)
    return nodes, children


def _below(children, root_id: int) -> list[TicketCategory]:
    """The descendants of `root_id`, each after its parent."""
    found, stack = [], list(reversed(children[root_id]))
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(children[node.pk]))
    return found


def _category_values(values: Mapping[str, Any], *, node: TicketCategory | None, nodes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = clean_name(TicketCategory, "name", values["name"])
        if PATH_SEP.strip() in out["name"]:
            raise invalid(_("名称不能包含“%(sep)s”。") % {"sep": PATH_SEP.strip()}, "name")
    if "sort_order" in values:
        out["sort_order"] = clean_int(
            TicketCategory, "sort_order", values["sort_order"] or 0, low=0, high=MAX_SORT_ORDER
        )
    if "parent" in values:
        parent = values["parent"]
        out["parent"] = None if parent is None else nodes.get(parent.pk)
        if parent is not None and out["parent"] is None:
            raise invalid(_("上级分类不存在。"), "parent")
    if "kind" in values:
        out["kind"] = values["kind"]
    return out


def _check_category(node, *, name, parent, kind, children, below) -> None:
    """The node as it would be: a live parent outside its own subtree, a name unique
    among its siblings, a kind its parent allows."""
    if parent is not None:
        if node is not None and (parent.pk == node.pk or parent in below):
            raise invalid(_("不能把分类移到它自己或它的下级分类之下。"), "parent")
        if not parent.is_active and (node is None or parent.pk != node.parent_id):
            raise invalid(_("上级分类“%(name)s”已停用。") % {"name": parent.path}, "parent")
    siblings = children[parent.pk if parent else None]
    if any(s.name == name and (node is None or s.pk != node.pk) for s in siblings):
        raise invalid(_("同一上级下已有分类“%(name)s”。") % {"name": name}, "name")
    if parent is not None and parent.kind_id is not None and getattr(kind, "pk", None) != parent.kind_id:
        raise invalid(
            _("上级分类“%(parent)s”只适用于“%(kind)s”，下级分类也只能适用于该类型。")
            % {"parent": parent.path, "kind": parent.kind},
            "kind",
        )
    if kind is not None and (node is None or kind.pk != node.kind_id) and not kind.is_active:
        raise invalid(_("工单类型“%(kind)s”已停用。") % {"kind": kind}, "kind")


def _path_of(parent: TicketCategory | None, name: str) -> str:
    return f"{parent.path}{PATH_SEP}{name}" if parent is not None else name


def _check_path(path: str) -> None:
    limit = TicketCategory._meta.get_field("path").max_length
    if len(path) > limit:
        raise invalid(_("分类完整路径不能超过 %(n)s 个字，请缩短名称或减少层级。") % {"n": limit}, "name")


def ticket_category_create(
    *, actor, name: str, parent: TicketCategory | None = None, kind: TicketKind | None = None, sort_order: int = 0
) -> TicketCategory:
    """A node of the category tree. Under a parent that belongs to one kind, a node
    without a kind takes the parent's."""
    with config_write(actor):
        nodes, children = _tree()
        cleaned = _category_values({"name": name, "parent": parent, "sort_order": sort_order}, node=None, nodes=nodes)
        parent = cleaned["parent"]
        if kind is None and parent is not None:
            kind = parent.kind
        _check_category(None, name=cleaned["name"], parent=parent, kind=kind, children=children, below=[])
        path = _path_of(parent, cleaned["name"])
        _check_path(path)
        category = TicketCategory.objects.create(kind=kind, path=path, **cleaned)
        audit_record(code="ticket_category.created", obj=category, actor=actor, data={**cleaned, "kind": kind})
    return category


def ticket_category_update(
    *,
    actor,
    category: TicketCategory,
    values: Mapping[str, Any],
    expected_updated_at: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Rename, move (no cycles) or re-sort a node, or change its kind. The stored paths
    of the node and of every descendant follow; a kind given to a node goes to its
    whole subtree, refused while tickets of another kind use it."""
    with config_write(actor):
        only_fields(values, CATEGORY_FIELDS)
        locked = lock_row(category, expected_updated_at)
        nodes, children = _tree()
        below = _below(children, locked.pk)
        cleaned = _category_values(values, node=locked, nodes=nodes)
        name = cleaned.get("name", locked.name)
        parent = cleaned["parent"] if "parent" in cleaned else nodes.get(locked.parent_id)
        kind = cleaned.get("kind", locked.kind)
        _check_category(locked, name=name, parent=parent, kind=kind, children=children, below=below)
        subtree = [locked.pk, *(n.pk for n in below)]
        kind_changed = kind is not None and kind.pk != locked.kind_id
        if kind_changed and Ticket.objects.filter(category_id__in=subtree).exclude(kind=kind).exists():
            raise invalid(
                _("已有其他类型的工单使用该分类或其下级分类，不能改为只适用于“%(kind)s”。") % {"kind": kind}, "kind"
            )
        path = _path_of(parent, name)
        _check_path(path)
        changes = save_row(category, locked, {**cleaned, "path": path}, code="ticket_category.updated", actor=actor)
        _follow(locked, below, kind=kind if kind_changed else None, actor=actor)
    return changes


def _follow(node: TicketCategory, below: list[TicketCategory], *, kind: TicketKind | None, actor) -> None:
    """Descendants take the node's new path (and `kind`), each change audited."""
    paths, changed, diffs = {node.pk: node.path}, [], {}
    now = timezone.now()
    for child in below:
        paths[child.pk] = f"{paths[child.parent_id]}{PATH_SEP}{child.name}"
        diff = {}
        if child.path != paths[child.pk]:
            diff["path"] = (child.path, paths[child.pk])
        if kind is not None and child.kind_id != kind.pk:
            diff["kind"] = (child.kind_id, kind.pk)
        if diff:
            _check_path(paths[child.pk])
            child.path, child.kind_id, child.updated_at = paths[child.pk], (kind.pk if kind else child.kind_id), now
            changed.append(child)
            diffs[child.pk] = diff
    if changed:
        TicketCategory.objects.bulk_update(changed, ["path", "kind", "updated_at"])
        audit_record_many(code="ticket_category.followed", objects=changed, actor=actor, changes=diffs)


def _deactivate_below(actor):
    def check(node: TicketCategory) -> None:
        # A hidden branch hides all of it: no live child under a retired parent.
        _nodes, children = _tree()
        live = [n for n in _below(children, node.pk) if n.is_active]
        if live:
            TicketCategory.objects.filter(pk__in=[n.pk for n in live]).update(
                is_active=False, updated_at=timezone.now()
            )
            audit_record_many(
                code="ticket_category.deactivated",
                objects=live,
                actor=actor,
                changes={n.pk: {"is_active": (True, False)} for n in live},
            )

    return check


def _parent_live(node: TicketCategory) -> None:
    if node.parent_id is not None and not TicketCategory.objects.filter(pk=node.parent_id, is_active=True).exists():
        raise invalid(_("请先启用上级分类。"))


def ticket_category_set_active(*, actor, category: TicketCategory, active: bool) -> TicketCategory:
    """Deactivating hides the node and its subtree from new tickets (tickets keep
    theirs); reactivating brings back the node alone, under a live parent."""
    check = _parent_live if active else _deactivate_below(actor)
    return set_active(actor=actor, obj=category, active=active, audit="ticket_category", check=check)


def category_tree_rows() -> list[tuple[TicketCategory, int]]:
    """Every category with its depth, each after its parent, siblings by sort order
    (what the settings page lists)."""
    _nodes, children = _tree()
    rows: list[tuple[TicketCategory, int]] = []
    stack = [(node, 0) for node in reversed(children[None])]
    while stack:
        node, depth = stack.pop()
        rows.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(children[node.pk]))
    return rows
