"""The one router of the tickets API; the endpoint modules of this package register on
it, and `kefu.api` mounts it under /api/v1/. Operation ids are given explicitly
(`tickets_<name>`), so moving an endpoint between modules does not rename it for the
clients generated from the OpenAPI document."""

from ninja import Router

router = Router(tags=["tickets"])
