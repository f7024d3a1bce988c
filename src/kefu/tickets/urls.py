from django.urls import path

from kefu.tickets.views.detail import ticket_detail

app_name = "tickets"

urlpatterns = [
    path("<int:pk>/", ticket_detail, name="detail"),
]
