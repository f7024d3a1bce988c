"""The plan of a year of demo tickets: for each ticket what it is about and the moves it
goes through, each at a moment in the past. Deterministic (a fixed seed per profile),
and free of writes: `demo_player` plays the plans through the services in time order.

Every state is covered on purpose (`SPECIAL`: tickets just registered, routed, in
progress, paused, waiting for a refund approval or a deadline extension, stuck and
escalated, resolved, confirmed, reopened, withdrawn, duplicate, merged; three
complaints this month against one agent), the rest is the everyday flow of the year,
mostly closed, some late, some with two departments, a pause or failed attempts."""

from __future__ import annotations

import datetime
import random
import zlib
from typing import Any

from kefu.customers.demo import CLINIC_TREATMENTS, MANUFACTURING_MODELS
from kefu.tickets import demo_phrases as P
from kefu.tickets import demo_text as T
from kefu.tickets.demo_flow import DAY, ROUTED_KINDS, H, PlanBuilder, Setting, Step, TicketPlan

# (scenario, how many, age window in days) — the states a demo must show.
SPECIAL: tuple[tuple[str, int, tuple[float, float]], ...] = (
    ("registered", 5, (0.05, 1.5)),
    ("routed", 6, (0.2, 2.5)),
    ("in_progress", 10, (0.5, 6)),
    ("paused", 2, (2, 8)),
    ("refund_pending", 3, (2, 8)),
    ("extension", 2, (1, 4)),
    ("stuck", 5, (15, 60)),
    ("failed_open", 2, (4, 15)),
    ("resolved", 6, (1, 6)),
    ("confirmed", 5, (3, 12)),
    ("reopened_open", 2, (5, 20)),
    ("reopened_closed", 8, (20, 360)),
    ("withdrawn", 10, (1, 360)),
    ("duplicate", 6, (1, 360)),
    ("merged", 5, (1, 360)),
    ("refund_approved", 10, (15, 360)),
    ("refund_rejected", 2, (15, 360)),
    ("rerouted", 4, (10, 300)),
)
KIND_WEIGHTS: dict[str, dict[str, int]] = {
    "decoration": {"complaint": 40, "repair": 30, "inquiry": 18, "return": 3, "suggestion": 9},
    "health_check": {"complaint": 45, "repair": 4, "inquiry": 36, "return": 3, "suggestion": 12},
    "manufacturing": {"complaint": 35, "repair": 40, "inquiry": 15, "return": 3, "suggestion": 7},
    "retail": {"complaint": 38, "inquiry": 24, "return": 28, "suggestion": 10},
    "clinic": {"complaint": 52, "inquiry": 33, "return": 3, "suggestion": 12},
}
# Where the flow of a special scenario stops (default: the scenario's own name).
STOPS = {
    "paused": "in_progress",
    "refund_pending": "closed",  # the flow stops at the pending approval
    "extension": "in_progress",
    "refund_approved": "closed",
    "refund_rejected": "closed",
    "reopened_closed": "closed",
}


class Planner(PlanBuilder):
    """The year: the special scenarios, the discipline months, then everyday tickets up
    to `count`, each squeezed before now."""

    def __init__(self, setting: Setting, count: int):
        super().__init__(setting, random.Random(zlib.crc32(setting.profile.encode())))
        self.count = count
        self.plans: list[TicketPlan] = []
        self.staff_months: dict[tuple[str, str], int] = {}

    def created(self, age: tuple[float, float]) -> datetime.datetime:
        moment = self.s.now - DAY * self.rng.uniform(*age)
        moment = moment.replace(hour=self.rng.choice((8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 19)))
        moment = moment.replace(minute=self.rng.randrange(60), second=self.rng.randrange(60), microsecond=0)
        if self.rng.random() < 0.8:
            moment = self.s.snap(moment)
        # Recent ones must stay in the past (a snap may move them to the next working day).
        return min(moment, self.s.now - datetime.timedelta(minutes=30))

    def category(self, kind: str, service_attitude: bool = False) -> tuple[str | None, str | None]:
        options = self.s.categories.get(kind) or []
        if service_attitude:
            options = [o for o in options if o[0] == "服务态度"] or options
        elif options and self.rng.random() > 0.06:
            options = [o for o in options if o[0] != "其他"] or options
        return self.pick(options) if options else (None, None)

    def departments(self, kind: str, top: str | None) -> list[str]:
        mapped = self.s.departments_for.get(top or "")
        if mapped:
            return list(mapped) if self.rng.random() < 0.7 else mapped[:1]
        return [self.s.worker_department]

    def new(
        self, scenario: str, kind: str, age: tuple[float, float], *, customer=None, top=None, leaf=None
    ) -> TicketPlan:
        if top is None:
            top, leaf = self.category(kind)
        needs_customer = kind in ROUTED_KINDS or self.rng.random() < 0.6
        if customer is None and needs_customer and self.s.customers:
            customer = self.rng.randrange(len(self.s.customers))
        plan = TicketPlan(
            index=len(self.plans),
            scenario=scenario,
            kind=kind,
            top=top,
            leaf=leaf,
            customer=customer,
            region=None if customer is not None else self.pick(self.s.regions[:2]),
            departments=self.departments(kind, top) if kind in ROUTED_KINDS else [],
        )
        self.describe(plan)
        plan.steps.append(Step(self.created(age), "create"))
        self.plans.append(plan)
        return plan

    def describe(self, plan: TicketPlan) -> None:
        rng, profile = self.rng, self.s.profile
        if plan.kind == "inquiry":
            plan.title, answer = self.pick(P.INQUIRIES[profile])
            plan.description = plan.title + "。"
            plan.extra["_answer"] = answer
            plan.channel = self.pick(("phone", "phone", "phone", "messaging", "web"))
            return
        if plan.kind == "suggestion":
            plan.title, detail, answer = self.pick(P.SUGGESTIONS[profile])
            plan.description, plan.extra["_answer"] = detail, answer
            plan.channel = self.pick(("web", "messaging", "phone"))
            return
        topic = T.topic(profile, plan.top)
        issues = P.LEAF_ISSUES.get(plan.leaf or "") or P.LEAF_ISSUES.get(plan.top or "") or topic.issues
        if plan.kind == "return" and profile != "retail":
            issues = P.RETURNS[profile]
        plan.title, detail = self.pick(issues or T.topic("", None).issues)
        plan.channel = self.pick(("phone",) * 12 + ("onsite",) * 3 + ("messaging",) * 3 + ("web", "email"))
        if plan.kind == "complaint" and rng.random() < 0.07:
            plan.channel, plan.agency = "agency", self.pick(P.AGENCIES[profile])
        plan.severity = self.pick(
            ("normal",) * 16 + ("important",) * 4 + ("major",) + ("urgent",) * (rng.random() < 0.3)
        )
        lead = P.CHANNEL_LEADS[plan.channel].format(agency=plan.agency)
        plan.description = f"{{customer}}{lead}{detail}"
        plan.extra.update(self.kind_fields(plan))

    def kind_fields(self, plan: TicketPlan) -> dict[str, Any]:
        """Values of the kind's own form fields (`TicketKind.fields`) for this profile."""
        rng, profile, kind = self.rng, self.s.profile, plan.kind
        day = lambda back: (self.s.now - DAY * rng.randint(*back)).date().isoformat()  # noqa: E731
        if profile == "decoration" and kind == "complaint":
            values = {"project_stage": self.pick(("开工期", "中期", "尾期", "完工后"))}
            return values | ({"agency_reply": True} if plan.agency else {})
        if profile == "decoration" and kind == "repair":
            return {"warranty": rng.random() < 0.8}
        if profile == "health_check" and kind == "complaint":
            return {"exam_date": day((20, 60))} | ({"agency_reply": True} if plan.agency else {})
        if profile == "manufacturing" and kind in ("complaint", "repair"):
            values = {
                "product_model": self.pick(MANUFACTURING_MODELS[self.pick(list(MANUFACTURING_MODELS))]),
                "serial_no": f"SW{rng.randint(2019, 2025)}{rng.randrange(100000):05d}",
            }
            return values | ({"in_warranty": rng.random() < 0.6} if kind == "repair" else {})
        if profile == "retail" and kind == "return":
            return {"receipt_no": f"R{rng.randrange(10**10):010d}", "purchase_date": day((60, 75))}
        if profile == "clinic" and kind == "complaint":
            return {
                "treatment": self.pick(CLINIC_TREATMENTS),
                "doctor": self.pick(P.DOCTORS),
                "consultant_attempts": rng.randint(1, 3),
            }
        return {}

    # -- building the moves ---------------------------------------------------------------

    def build(self) -> list[TicketPlan]:
        self.specials()
        self.discipline()
        weights = KIND_WEIGHTS.get(self.s.profile, KIND_WEIGHTS["decoration"])
        kinds = [k for k in weights if self.s.categories.get(k) is not None]
        while len(self.plans) < self.count:
            kind = self.rng.choices(kinds, [weights[k] for k in kinds])[0]
            age = (self.rng.uniform(0, 1) ** 1.15 * 355 + 8,) * 2
            self.everyday(kind, age)
        for plan in self.plans:
            plan.extra.pop("_answer", None)
            self.fit(plan)
        return self.plans

    def everyday(self, kind: str, age: tuple[float, float]) -> None:
        plan = self.new("closed", kind, age)
        if kind not in ROUTED_KINDS:
            self.unrouted(plan, "closed")
            return
        if plan.top == "服务态度" and self.rng.random() < 0.5:
            self.against(plan, self.pick(("agent", "agent2", "dept")))
        roll = self.rng.random()
        if plan.severity == "major" or (plan.agency and roll < 0.5):
            self.add(plan, "important", (0.3, 3), reason=self.pick(P.IMPORTANT_REASONS))
        if plan.severity == "major" and roll < 0.5:
            self.add(plan, "escalate", (0.2, 2), note=self.pick(P.ESCALATE_NOTES))
        if roll < 0.1:
            self.add(plan, "comment", (0.2, 3), body=self.pick(P.COMMENTS))
        self.flow(
            plan,
            late=roll > 0.85,
            failed=3 if 0.1 <= roll < 0.13 else 0,
            pause="resume" if 0.13 <= roll < 0.18 else None,
        )

    def against(self, plan: TicketPlan, staff: str) -> None:
        """A complaint about a staff member, at most one a month each (the discipline
        flag is shown by the planned ones only)."""
        month = plan.steps[0].at.strftime("%Y-%m")
        if plan.kind == "complaint" and self.staff_months.get((staff, month), 0) < 1:
            plan.against_staff = staff
            self.staff_months[(staff, month)] = 9  # nobody else in that month

    def specials(self) -> None:
        weights = KIND_WEIGHTS.get(self.s.profile, KIND_WEIGHTS["decoration"])
        routed = [k for k in ROUTED_KINDS if weights.get(k, 0) >= 10 and k in self.s.categories]
        refundable = [k for k in ("complaint", "return") if weights.get(k, 0) >= 10 and k in self.s.categories]
        for scenario, count, age in SPECIAL:
            for number in range(count):
                kinds = refundable if scenario.startswith("refund") else routed
                if scenario in ("registered", "resolved") and number % 3 == 2:
                    kinds = ["inquiry"] if scenario == "resolved" else ["suggestion"]
                kind = kinds[number % len(kinds)]
                if scenario == "rerouted":
                    self.rerouted(age)
                    continue
                plan = self.new(scenario, kind, age)
                if kind not in ROUTED_KINDS:
                    self.unrouted(plan, scenario)
                elif scenario in ("duplicate", "merged"):
                    self.flow(plan)
                    self.companion(plan, merge=scenario == "merged")
                elif scenario == "withdrawn":
                    if number % 2:
                        self.add(plan, "route", (0.1, 2), departments=plan.departments, instructions="")
                    self.add(plan, "withdraw", (2, 48), reason=self.pick(P.WITHDRAW_REASONS))
                elif scenario == "stuck":
                    self.flow(plan, "in_progress", late=True)
                    self.add(plan, "supervise", (20, 60), note=self.pick(P.SUPERVISE_NOTES))
                else:
                    self.flow(
                        plan,
                        STOPS.get(scenario, scenario),
                        pause="stay" if scenario == "paused" else None,
                        refund=scenario.removeprefix("refund_") if scenario.startswith("refund") else None,
                        reopen=scenario.startswith("reopened"),
                        failed=3 if scenario == "failed_open" else 0,
                        extension=("pending", "granted")[number % 2] if scenario == "extension" else None,
                    )

    def rerouted(self, age) -> None:
        worker = self.s.worker_department
        options = [
            (top, leaf)
            for top, leaf in self.s.categories.get("complaint", [])
            if self.s.departments_for.get(top) and worker not in self.s.departments_for[top]
        ]
        top, leaf = self.pick(options) if options else (None, None)
        plan = self.new("rerouted", "complaint", age, top=top, leaf=leaf)
        self.flow(plan, reroute=True)

    def companion(self, original: TicketPlan, *, merge: bool) -> None:
        """The same problem registered again a little later for the same customer."""
        plan = self.new("merged" if merge else "duplicate", original.kind, (0, 0), customer=original.customer,
                        top=original.top, leaf=original.leaf)  # fmt: skip
        plan.original = original.index
        plan.steps[0].at = min(self.s.snap(original.steps[0].at + H * self.rng.uniform(1, 20)), original.steps[-1].at)
        plan.steps[0].at = max(plan.steps[0].at, original.steps[0].at + datetime.timedelta(minutes=5))
        self.add(plan, "merge" if merge else "duplicate", (0.3, 3), snap=False)

    def discipline(self) -> None:
        """Seed 003: three complaints this month against one agent (the flag is raised
        by the third); and an earlier month whose flag was submitted and approved."""
        now = self.s.now
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        elapsed = now - month_start
        for number in range(3):
            plan = self.new("discipline", "complaint", (0, 0), **self.attitude())
            at = month_start + elapsed * (number + 0.5) / 3
            plan.steps[0].at = min(max(self.s.snap(at), month_start), now - datetime.timedelta(minutes=30 - number))
            plan.against_staff = "agent2"
            self.flow(plan, "closed" if now - plan.steps[0].at > 8 * DAY else "in_progress")
        self.staff_months[("agent2", now.strftime("%Y-%m"))] = 9
        past = (now - DAY * self.rng.randint(70, 120)).replace(day=3, hour=10)
        self.staff_months[("dept", past.strftime("%Y-%m"))] = 9
        for number in range(3):
            plan = self.new("discipline", "complaint", (0, 0), **self.attitude())
            plan.steps[0].at = self.s.snap(past + DAY * 7 * number + H * self.rng.uniform(0, 6))
            plan.against_staff = "dept"
            self.flow(plan)
            if number == 2:
                month = past.date().replace(day=1).isoformat()
                self.add(plan, "penalty_submit", (20, 30), staff="dept", month=month, reason=P.PENALTY_REASON)
                self.add(plan, "penalty_decide", (4, 30), staff="dept", month=month, who="manager")
                self.add(plan, "penalty_decide", (4, 30), staff="dept", month=month, who="director")

    def attitude(self) -> dict:
        top, leaf = self.category("complaint", service_attitude=True)
        leaves = [lf for t, lf in self.s.categories.get("complaint", []) if t == top and lf and "客服" in lf]
        return {"top": top, "leaf": leaves[0] if leaves else leaf}


def build_plans(setting: Setting, count: int) -> list[TicketPlan]:
    return Planner(setting, count).build()
