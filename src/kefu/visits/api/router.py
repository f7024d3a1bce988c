"""The one router of the return-visits API; the endpoint modules of this package
register on it, and `kefu.api` mounts it under /api/v1/. Operation ids are given
explicitly (`visits_<name>`, `visit_rules_<name>`, `questionnaires_<name>`), so moving an
endpoint between modules does not rename it for clients generated from the OpenAPI
document."""

from ninja import Router

router = Router(tags=["visits"])
