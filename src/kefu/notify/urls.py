"""URLs of the inbox (under /notify/) and the outbox log."""

from django.urls import path

from kefu.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.read_all, name="read_all"),
    path("<int:pk>/read/", views.read, name="read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("outbox/", views.outbox, name="outbox"),
]
