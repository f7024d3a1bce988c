"""Huey autodiscovers `tasks` modules; the periodic jobs all live in `kefu.schedule`."""

import kefu.schedule  # noqa: F401
