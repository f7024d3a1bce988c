"""Rows for the shell and the API shell."""

from django.urls import reverse

from tests.permissions.matrix import EVERY_ROLE, Row

ROWS = [
    Row("home", lambda w: reverse("home"), EVERY_ROLE),
    Row("api-me", lambda w: "/api/v1/me", EVERY_ROLE, api=True),
]
