"""URLs of the archive pages (under kefu.customers.urls, namespace "customers")."""

from django.urls import path

from kefu.customers.views import archive, contacts, detail, edit, merge

urlpatterns = [
    path("", archive.customer_list_view, name="list"),
    path("bulk/", archive.customer_bulk, name="bulk"),
    path("new/", edit.customer_create_view, name="create"),
    path("<int:pk>/", detail.customer_detail, name="detail"),
    path("<int:pk>/edit/", edit.customer_edit_view, name="edit"),
    path("<int:pk>/timeline/", detail.customer_timeline, name="timeline"),
    path("<int:pk>/class/", detail.customer_change_class_view, name="change_class"),
    path("<int:pk>/credit/", detail.customer_change_credit_view, name="change_credit"),
    path("<int:pk>/points/", detail.customer_points_add, name="points_add"),
    path("<int:pk>/merge/", merge.customer_merge_view, name="merge"),
    path("<int:pk>/reveal/id-number/", detail.reveal_id_number, name="reveal_id_number"),
    path("<int:pk>/contacts/new/", contacts.contact_add, name="contact_add"),
    path("<int:pk>/contacts/<int:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/remove/", contacts.contact_remove, name="contact_remove"),
    path("<int:pk>/contacts/<int:contact_id>/primary/", contacts.contact_set_primary, name="contact_primary"),
    path("<int:pk>/contacts/<int:contact_id>/reveal/", detail.reveal_phone, name="reveal_phone"),
]
