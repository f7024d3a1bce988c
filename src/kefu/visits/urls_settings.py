"""Visit configuration and campaign pages, included by visits/urls.py with
`path("", include("kefu.visits.urls_settings"))` inside the `visits` namespace:
/visits/settings/… (rules, questionnaires) and /visits/campaigns/…"""

from django.urls import path

from kefu.visits import views_settings as views

urlpatterns = [
    path("settings/", views.settings_index, name="settings"),
    path("settings/rules/new/", views.rule_create, name="rule_create"),
    path("settings/rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("settings/rules/<int:pk>/pause/", views.rule_pause, name="rule_pause"),
    path("settings/rules/<int:pk>/resume/", views.rule_resume, name="rule_resume"),
    path("settings/questionnaires/new/", views.questionnaire_create, name="questionnaire_create"),
    path("settings/questionnaires/<int:pk>/", views.questionnaire_detail, name="questionnaire"),
    path("settings/questionnaires/<int:pk>/publish/", views.questionnaire_publish, name="questionnaire_publish"),
    path(
        "settings/questionnaires/<int:pk>/deactivate/",
        views.questionnaire_deactivate,
        name="questionnaire_deactivate",
    ),
    path(
        "settings/questionnaires/<int:pk>/reactivate/",
        views.questionnaire_reactivate,
        name="questionnaire_reactivate",
    ),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/preview/", views.campaign_preview, name="campaign_preview"),
]
