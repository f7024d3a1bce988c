"""How HTML views check access: the same `kefu.core.access` calls the API and the
selectors use, wrapped for views."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.core import access
from kefu.core.errors import AccessDenied, NotFound


def require_perm(perm: str):
    """View decorator: login required, then the role check. Anonymous → login page;
    without the permission → 403 page."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not access.has_perm(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm  # read by the permission-matrix test
        return wrapper

    return decorator


def get_visible(queryset, user, perm: str, **lookup):
    """One object through the scoped selector: 404 when absent or out of scope."""
    obj = access.restrict(queryset, user, perm).filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj


def check(user, perm: str, obj=None) -> None:
    """`access.require` translated to Django's 403/404 for views."""
    try:
        access.require(user, perm, obj)
    except NotFound:
        raise Http404
    except AccessDenied:
        raise PermissionDenied
