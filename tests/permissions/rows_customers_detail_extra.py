"""Rows for the customer page's additions: the points form (roles that may change an
archive) and the merge pages (roles with `customers.merge_customer`)."""

from django.urls import reverse

from tests.factories_customers import make_customer
from tests.permissions.matrix import Row, roles

POINTS = roles("manager", "supervisor", "agent", "account_manager", "archivist")
MERGERS = roles("manager", "archivist")


def _pair(w):
    owner = w.make_user("manager", username="matrix-merge-owner", scope_all=True)
    survivor = make_customer(owner, name="张三", phone="13812345678", region=w.region)
    source = make_customer(owner, name="张三", phone="13812345678", region=w.region)
    return survivor, source


def _merge_url(w):
    return reverse("customers:merge", args=[_pair(w)[0].pk])


def _merge_confirm_url(w):
    survivor, source = _pair(w)
    return reverse("customers:merge", args=[survivor.pk]) + f"?source={source.pk}"


class _MergePost:
    """url and body from the same pair of archives (the runner calls `url`, then `data`)."""

    def __init__(self):
        self.pair = None

    def url(self, w):
        self.pair = _pair(w)
        return reverse("customers:merge", args=[self.pair[0].pk])

    def data(self, w):
        survivor, source = self.pair
        return {"source": source.pk, "survivor_version": survivor.version, "source_version": source.version}


_post = _MergePost()


def _points_url(w):
    owner = w.make_user("manager", username="matrix-points-owner", scope_all=True)
    customer = make_customer(owner, name="积分客户", phone="13700001234", region=w.region)
    return reverse("customers:points_add", args=[customer.pk])


ROWS = [
    Row("customers-merge-page", _merge_url, MERGERS),
    Row("customers-merge-confirm-page", _merge_confirm_url, MERGERS),
    Row("customers-merge", _post.url, MERGERS, method="post", data=_post.data),
    Row(
        "customers-points-add",
        _points_url,
        POINTS,
        method="post",
        data=lambda w: {"delta": 10, "reason": "活动奖励", "token": "matrix-token"},
    ),
]
