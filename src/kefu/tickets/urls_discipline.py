"""员工被投诉统计 and penalty proposals (namespace `tickets`)."""

from django.urls import path

from kefu.tickets.views.discipline import discipline, penalty_submit_view

urlpatterns = [
    path("discipline/", discipline, name="discipline"),
    path("penalties/<int:pk>/submit/", penalty_submit_view, name="penalty_submit"),
]
