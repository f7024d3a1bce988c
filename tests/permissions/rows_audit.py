from django.urls import reverse

from tests.permissions.matrix import Row, roles

ROWS = [Row("audit-list", lambda w: reverse("audit:list"), roles("manager", "director", "admin"))]
