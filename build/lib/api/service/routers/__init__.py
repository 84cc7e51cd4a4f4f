"""The API routers, one per resource."""
