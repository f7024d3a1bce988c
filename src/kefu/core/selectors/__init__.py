"""Core read selectors, one module per area: querysets already scoped to the user."""
