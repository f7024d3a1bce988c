"""/reports/subscriptions/…: scheduled reports (included by `kefu.reports.urls` in the
`reports` namespace)."""

from django.urls import path

from kefu.reports.views import subscriptions as views

urlpatterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
    path("<int:pk>/pause/", views.subscription_pause, name="subscription_pause"),
    path("<int:pk>/resume/", views.subscription_resume, name="subscription_resume"),
    path("mine/", views.my_deliveries, name="my_deliveries"),
    path("deliveries/<int:pk>/download/", views.delivery_download, name="delivery_download"),
]
