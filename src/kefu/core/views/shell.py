"""The shell around every module: login, home dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kefu.core import navigation
from kefu.core.workcal import calendar_warnings


@login_required
def home(request):
    return render(
        request,
        "core/home.html",
        {"counters": navigation.counters_for(request.user), "calendar_warnings": calendar_warnings()},
    )
