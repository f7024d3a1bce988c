"""URLs of the org pages (included under /org/ by kefu.core.urls)."""

from django.urls import path

from kefu.core.views import org

app_name = "org"

urlpatterns = [
    path("departments/", org.department_list, name="department_list"),
    path("departments/new/", org.department_create, name="department_create"),
    path("departments/<int:pk>/edit/", org.department_edit, name="department_edit"),
    path("departments/<int:pk>/deactivate/", org.department_deactivate, name="department_deactivate"),
    path("departments/<int:pk>/reactivate/", org.department_reactivate, name="department_reactivate"),
    path("regions/", org.region_list, name="region_list"),
    path("regions/new/", org.region_create, name="region_create"),
    path("regions/<int:pk>/edit/", org.region_edit, name="region_edit"),
    path("regions/<int:pk>/deactivate/", org.region_deactivate, name="region_deactivate"),
    path("regions/<int:pk>/reactivate/", org.region_reactivate, name="region_reactivate"),
    path("staff/", org.staff_list, name="staff_list"),
    path("staff/new/", org.staff_create, name="staff_create"),
    path("staff/<int:pk>/", org.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/edit/", org.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/roles/", org.staff_roles, name="staff_roles"),
    path("staff/<int:pk>/scope/", org.staff_scope, name="staff_scope"),
    path("staff/<int:pk>/password/", org.staff_password, name="staff_password"),
    path("staff/<int:pk>/deactivate/", org.staff_deactivate, name="staff_deactivate"),
    path("staff/<int:pk>/reactivate/", org.staff_reactivate, name="staff_reactivate"),
    path("roles/", org.role_list, name="role_list"),
    path("roles/<slug:code>/", org.role_permissions, name="role_permissions"),
]
