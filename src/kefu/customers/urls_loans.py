"""URLs of the archive lending log 借阅 (under kefu.customers.urls at /customers/loans/,
namespace "customers")."""

from django.urls import path

from kefu.customers.views import loans

urlpatterns = [
    path("", loans.loans, name="loans"),
    path("new/", loans.loan_create, name="loan_create"),
    path("<int:pk>/return/", loans.loan_return, name="loan_return"),
]
