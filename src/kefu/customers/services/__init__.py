"""Customer archive write services, one module per area."""
