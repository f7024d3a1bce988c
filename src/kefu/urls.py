from django.urls import include, path

from kefu.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("notify/", include("kefu.notify.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("visits/", include("kefu.visits.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("", include("kefu.core.urls")),
]

handler403 = "kefu.core.views.errors.permission_denied"
handler404 = "kefu.core.views.errors.page_not_found"
