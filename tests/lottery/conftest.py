"""The lottery tests share the flash-sale tests' helpers for deployments on the machine's Redis."""

from tests.sales.conftest import deployment_redis  # noqa: F401 - a fixture, made visible here
