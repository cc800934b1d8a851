"""場控 alerts (issue 15): rules.py (pure), service.py (raised once, published), repository.py."""
