"""The sandbox API: auth, deterministic pages with next links, one 429, batches received."""

from __future__ import annotations

import requests

from rest_connector.sandbox import SandboxServer, customer
from tests.conftest import CANARY_TOKEN

AUTH = {"Authorization": f"Bearer {CANARY_TOKEN}"}


def test_requires_the_bearer_token(sandbox):
    response = requests.get(f"{sandbox.url}/api/v2/customers", timeout=5)
    assert response.status_code == 401
    assert requests.get(f"{sandbox.url}/healthz", timeout=5).json() == {"status": "ok"}


def test_pages_follow_next_links_with_one_429_on_page_3(sandbox):
    url, seen, statuses = f"{sandbox.url}/api/v2/customers?page_size=250", [], []
    while url:
        response = requests.get(url, headers=AUTH, timeout=5)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
            continue
        body = response.json()
        seen += body["results"]
        url = body["next"]
    assert statuses == [200, 200, 429, 200, 200]
    assert [c["customer_id"] for c in seen] == [f"C{n:06d}" for n in range(1, 1001)]
    assert seen[0] == customer(1)
    assert set(seen[0]) == {"customer_id", "name", "email", "country", "created_at", "score",
                            "active", "signup_date"}


def test_relative_links_and_since_filter():
    with SandboxServer(customers=30, relative_links=True, token="t0k") as server:
        headers = {"Authorization": "Bearer t0k"}
        since = customer(10)["created_at"]
        body = requests.get(f"{server.url}/api/v2/customers",
                            params={"page_size": 5, "since": since}, headers=headers,
                            timeout=5).json()
        assert body["total"] == 20
        assert body["results"][0]["customer_id"] == "C000011"
        assert body["next"].startswith("/api/v2/customers?offset=5&page_size=5&since=")


def test_posted_batches_can_be_read_back(sandbox):
    for batch in ([{"id": 1}, {"id": 2}], {"records": [{"id": 3}]}):
        response = requests.post(f"{sandbox.url}/api/v2/predictions", json=batch, headers=AUTH,
                                 timeout=5)
        assert response.status_code == 200
    assert sandbox.received("predictions") == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    body = requests.get(f"{sandbox.url}/api/v2/predictions", headers=AUTH, timeout=5).json()
    assert body == {"batches": 2, "results": [{"id": 1}, {"id": 2}, {"id": 3}]}
    bad = requests.post(f"{sandbox.url}/api/v2/predictions", data=b"{", headers=AUTH, timeout=5)
    assert bad.status_code == 400
