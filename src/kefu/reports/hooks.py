"""How reports plug in at start-up: role grants and menu entries."""


def register() -> None:
    pass
