"""Building one demo ticket's moves (see `demo_plan` for the year): the plan of a
ticket and its steps, and the flow of a routed kind — routing with 投诉告知单, the
departments' acceptance, handling records and replies, refunds through approval, the
result, the return visit, reopening and closing — up to where its scenario stops."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kefu.tickets import demo_phrases as P
from kefu.tickets import demo_text as T

H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
ROUTED_KINDS = ("complaint", "repair", "return")


@dataclass
class Step:
    at: datetime.datetime
    action: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketPlan:
    index: int
    scenario: str
    kind: str
    top: str | None
    leaf: str | None
    customer: int | None  # index into the customers given to `build_plans`
    region: str | None  # for tickets without a customer
    departments: list[str]
    title: str = ""
    description: str = ""
    severity: str = "normal"
    channel: str = "phone"
    agency: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    against_staff: str | None = None
    original: int | None = None  # the plan a duplicate / merged ticket points at
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class Setting:
    """What the planner needs to know of the installation."""

    profile: str
    now: datetime.datetime
    categories: dict[str, list[tuple[str, str | None]]]  # kind code → (top, leaf)
    departments_for: dict[str, list[str]]
    worker_department: str  # the demo department user's (unmapped categories go there)
    customers: Sequence[tuple[str, str]]  # (name, region code)
    regions: Sequence[str]
    snap: Callable[[datetime.datetime], datetime.datetime]  # into working time


class PlanBuilder:
    """Adds a ticket's moves one after the other, each some (working) hours after the
    previous one."""

    def __init__(self, setting: Setting, rng: random.Random):
        self.s = setting
        self.rng = rng

    def pick(self, options: Sequence):
        return options[self.rng.randrange(len(options))]

    def later(self, plan: TicketPlan, hours: tuple[float, float], *, snap: bool = True) -> datetime.datetime:
        moment = plan.steps[-1].at + H * self.rng.uniform(*hours)
        return self.s.snap(moment) if snap else moment

    def add(self, plan: TicketPlan, action: str, hours: tuple[float, float], snap: bool = True, **args) -> None:
        plan.steps.append(Step(self.later(plan, hours, snap=snap), action, args))

    def flow(self, plan: TicketPlan, stop: str = "closed", *, late=False, failed=0, pause=None, refund=None,
             reopen=False, reroute=False, extension=None) -> None:  # fmt: skip
        """The moves of a routed kind, up to `stop`."""
        topic = T.topic(self.s.profile, plan.top)
        if stop == "registered":
            return
        if reroute:
            wrong = self.s.worker_department
            plan.departments = [d for d in plan.departments if d != wrong] or [wrong]
            self.add(plan, "route", (0.1, 1), departments=[wrong], instructions="")
            self.add(plan, "cancel_slip", (0.5, 3), department=wrong, reason=P.REROUTE_REASON)
        self.add(plan, "route", (0.1, 1.5), departments=plan.departments, instructions=self.pick(P.INSTRUCTIONS))
        if stop == "routed":
            return
        for department in plan.departments:
            self.add(plan, "accept", (0.3, 5), department=department)
        if pause:
            self.add(plan, "pause", (0.5, 3), reason=self.pick(P.PAUSE_REASONS))
            if pause == "stay":
                return
            self.add(plan, "resume", (40, 120))
        for attempt in range(failed):
            note = P.FAILED_NOTES[min(attempt, len(P.FAILED_NOTES) - 1)]
            self.add(plan, "handle", (18, 30), department=plan.departments[0], note=note, outcome="failed")
        if stop == "failed_open":
            return
        span = (70, 200) if late else (2, 30)
        outcome = "progress" if stop == "in_progress" else "solved"
        for department in plan.departments:
            self.add(plan, "handle", span, department=department, note=self.pick(topic.handling), outcome=outcome)
        if extension:
            self.add(plan, "extension", (1, 3), department=plan.departments[0], reason=self.pick(P.EXTENSION_REASONS))
            if extension == "granted":
                self.add(plan, "grant", (0.5, 3))
        if stop == "in_progress":
            return
        for department in plan.departments:
            self.add(plan, "reply", (1, 8), department=department, reply=self.pick(topic.replies))
        if refund:
            amount = self.rng.choice((200, 300, 500, 800, 1000, 1500, 2000, 3000))
            kind = "exchange" if plan.kind == "return" and self.rng.random() < 0.3 else "refund"
            kind = "compensation" if plan.kind == "complaint" else kind
            self.add(plan, "refund", (0.5, 4), amount=amount, reason=self.pick(P.REFUND_REASONS), kind=kind)
            if refund == "pending":
                if self.rng.random() < 0.6:
                    self.add(plan, "decide", (2, 20), who="director", approve=True)
                return
            if refund == "rejected":
                self.add(plan, "decide", (2, 20), who="director", approve=False, comment=self.pick(P.REJECT_COMMENTS))
            else:
                self.add(plan, "decide", (2, 20), who="director", approve=True)
                self.add(plan, "decide", (2, 20), who="finance", approve=True)
        self.resolve(plan, topic)
        if stop == "resolved":
            return
        if reopen:
            self.add(plan, "confirm", (20, 60), satisfied=False, score=2, note=self.pick(P.UNSATISFIED_NOTES))
            for department in plan.departments:
                self.add(plan, "accept", (0.5, 4), department=department)
            if stop == "reopened_open":
                return
            for department in plan.departments:
                self.add(
                    plan, "handle", (4, 30), department=department, note=self.pick(topic.handling), outcome="solved"
                )
                self.add(plan, "reply", (1, 6), department=department, reply=self.pick(topic.replies))
            self.resolve(plan, topic)
        self.confirm_and_close(plan, stop)

    def resolve(self, plan: TicketPlan, topic: T.Topic) -> None:
        self.add(
            plan,
            "resolve",
            (0.5, 4),
            resolution=self.pick(topic.resolutions),
            cause=self.pick(topic.causes),
            department=plan.departments[0] if plan.departments else None,
        )

    def confirm_and_close(self, plan: TicketPlan, stop: str) -> None:
        score = self.pick((5, 5, 5, 5, 4, 4, 4, 3, 3)) if plan.kind != "inquiry" else None
        if plan.kind in ROUTED_KINDS:
            self.add(plan, "confirm", (20, 70), satisfied=True, score=score, note=self.pick(P.CONFIRM_NOTES))
        if stop in ("confirmed", "resolved"):
            return
        self.add(plan, "close", (0.5, 30))

    def unrouted(self, plan: TicketPlan, stop: str) -> None:
        if stop == "registered":
            return
        quick = plan.kind == "inquiry"
        hours = (0.05, 0.4) if quick else (20, 120)
        self.add(
            plan, "resolve", hours, snap=not quick, resolution=plan.extra.pop("_answer"), cause="", department=None
        )
        if stop != "resolved":
            self.add(plan, "close", (0.1, 30))

    def fit(self, plan: TicketPlan) -> None:
        """Moves planned after now are squeezed in between the registration and now,
        in order: a recent ticket simply moved faster."""
        limit = self.s.now - datetime.timedelta(minutes=5)
        origin, last = plan.steps[0].at, plan.steps[-1].at
        if last <= limit:
            return
        first = min(origin, limit - datetime.timedelta(minutes=len(plan.steps)))
        span = max((last - origin).total_seconds(), 1.0)
        room = (limit - first).total_seconds()
        for number, step in enumerate(plan.steps):
            offset = (step.at - origin).total_seconds() * room / span
            step.at = first + datetime.timedelta(seconds=max(offset, number))
