"""Industry profiles (PRODUCT.md §2): each sets up the departments, regions and demo
staff of one kind of 客服部; later modules add their configuration and demo data."""
