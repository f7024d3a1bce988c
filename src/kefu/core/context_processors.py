from kefu.core import navigation


def shell(request):
    """The menu of modules this user may use (empty for anonymous visitors)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"kefu_menu": []}
    return {"kefu_menu": navigation.menu_for(user)}
