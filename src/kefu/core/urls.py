from django.contrib.auth import views as auth_views
from django.urls import include, path

from kefu.core.forms_auth import LoginForm, PasswordChangeForm
from kefu.core.views import shell

urlpatterns = [
    path("", shell.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="core/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="core/password_change.html", form_class=PasswordChangeForm, success_url="/"
        ),
        name="password_change",
    ),
    path("org/", include("kefu.core.urls_org")),
    path("calendar/", include("kefu.core.urls_calendar")),
    path("approvals/", include("kefu.core.urls_approvals")),
    path("audit/", include("kefu.core.urls_audit")),
]
