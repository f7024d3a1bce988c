"""Template tags of the notify module: the bell's unread count."""

from django import template

from kefu.notify.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notify_unread_count(context) -> int:
    """The current user's unread count. A view that already counted passes
    `notify_unread`, so the page does not count twice."""
    if "notify_unread" in context:
        return context["notify_unread"]
    return unread_count(context.get("user"))
