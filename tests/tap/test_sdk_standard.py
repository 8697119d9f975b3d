"""The SDK's standard tap tests, against the bundled sandbox API (declared and inferred)."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class

from rest_connector.sandbox import SandboxServer
from tap_rest_api.tap import TapRestApi

_sandbox = SandboxServer(customers=120).start()
_customers = {"url": f"{_sandbox.url}/api/v2/customers", "primary_keys": ["customer_id"],
              "auth": {"type": "bearer", "token": _sandbox.token},
              "params": {"page_size": 50},
              "pagination": {"type": "next_link"}, "response": {"root_key": "results"}}

SAMPLE_CONFIG = {
    "streams": [
        {"name": "customers_declared", **_customers,
         "incremental": {"replication_key": "created_at", "param": "since", "sorted": True},
         "schema": [{"name": "customer_id", "type": "string", "nullable": False},
                    {"name": "email", "type": "string"},
                    {"name": "created_at", "type": "timestamp"},
                    {"name": "score", "type": "double"},
                    {"name": "active", "type": "boolean"},
                    {"name": "signup_date", "type": "date"}]},
        {"name": "customers_inferred", **_customers},
    ],
}

TestTapStandard = get_tap_test_class(TapRestApi, config=SAMPLE_CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox():
    yield
    _sandbox.stop()
