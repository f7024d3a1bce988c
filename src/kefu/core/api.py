"""Core API: who am I."""

from ninja import Router, Schema

from kefu.core import access
from kefu.core.schemas import errors

router = Router(tags=["core"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    title: str
    department_id: int | None
    region_id: int | None
    roles: list[str]
    permissions: list[str]
    scope_all: bool
    scope_region_ids: list[int]
    scope_department_ids: list[int]


@router.get("/me", response={200: MeOut, **errors()}, summary="当前用户")
def me(request):
    user = request.user
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        title=user.title,
        department_id=user.department_id,
        region_id=user.region_id,
        roles=sorted(user.groups.values_list("name", flat=True)),
        permissions=sorted(user.get_all_permissions()),
        scope_all=access.sees_everything(user),
        scope_region_ids=sorted(access.user_region_ids(user)),
        scope_department_ids=sorted(access.user_department_ids(user)),
    )
