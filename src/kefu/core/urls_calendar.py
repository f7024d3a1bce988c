"""URLs of the calendar pages (included under /calendar/ by kefu.core.urls)."""

from django.urls import path

from kefu.core.views import calendar as views

app_name = "calendar"

urlpatterns = [
    path("", views.year_page, name="index"),
    path("<int:year>/", views.year_page, name="year"),
    path("<int:year>/confirm/", views.year_confirm, name="year_confirm"),
    path("calculate/", views.calculate, name="calculate"),
    path("seed/", views.seed, name="seed"),
    path("days/add/", views.day_add, name="day_add"),
    path("days/<int:pk>/edit/", views.day_edit, name="day_edit"),
    path("days/<int:pk>/delete/", views.day_delete, name="day_delete"),
    path("hours/", views.hours_page, name="hours"),
    path("hours/default/", views.hours_default, name="hours_default"),
    path("hours/department/<int:pk>/", views.hours_department, name="hours_department"),
    path("hours/department/<int:pk>/reset/", views.hours_reset, name="hours_reset"),
]
