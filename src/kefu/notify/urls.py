from django.urls import path

from kefu.notify import views

app_name = "notify"
urlpatterns = [path("", views.inbox, name="inbox")]
