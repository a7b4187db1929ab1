"""HTTP edge of the gateway: routes, error mapping, middleware."""
