"""HTTP and WebSocket: thin routers that translate requests to domain calls."""
