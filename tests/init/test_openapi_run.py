"""A pipeline written by ``init`` from a spec read over HTTP runs at once against an API
following that spec, into Delta tables."""

from __future__ import annotations

import json

import yaml
from deltalake import DeltaTable
from werkzeug import Request, Response

from tests.conftest import CANARY_TOKEN
from tests.init.conftest import connector
from tests.init.specs import INVOICE_FILE, billing_openapi30

CUSTOMERS = [{"id": f"cus_{n}", "email": None if n == 2 else f"c{n}@example.com",
              "created": f"2025-01-0{n}T10:00:00Z", "balance": n * 1.5, "tax_id": n,
              "address": {"city": "Lyon"}, "tags": ["a"], "avatar": "aGk=",
              "birthday": "1990-05-17"} for n in range(1, 6)]
INVOICES_PER_CUSTOMER = 3
PAGE = 2


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _authorized(request: Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {CANARY_TOKEN}"


def customers(request: Request) -> Response:
    """Stripe's shape: ``starting_after`` an id, ``has_more``; at most 2 a page."""
    if not _authorized(request):
        return _json({"error": "unauthorized"}, 401)
    after = request.args.get("starting_after")
    start = next(i + 1 for i, c in enumerate(CUSTOMERS) if c["id"] == after) if after else 0
    page = CUSTOMERS[start:start + PAGE]
    return _json({"data": page, "has_more": start + PAGE < len(CUSTOMERS), "url": "/customers"})


def invoices(request: Request) -> Response:
    """``page_token`` in, ``next_page_token`` out."""
    if not _authorized(request):
        return _json({"error": "unauthorized"}, 401)
    customer = request.path.split("/")[-2]
    rows = [{"id": f"in_{customer}_{n}", "total": 10.0 * n, "customer": customer, "lines": []}
            for n in range(INVOICES_PER_CUSTOMER)]
    start = int(request.args.get("page_token") or 0)
    following = start + PAGE if start + PAGE < len(rows) else None
    return _json({"items": rows[start:start + PAGE],
                  "next_page_token": str(following) if following else None})


PRODUCTS = [{"id": n, "name": f"product {n}"} for n in range(7)]
PRICES = [{"id": f"price_{n}", "amount": 100 * n} for n in range(5)]


def products(request: Request) -> Response:
    """``offset``/``limit`` with ``total_count``; at most 3 a page, whatever ``limit``."""
    start = int(request.args.get("offset", 0))
    size = min(int(request.args.get("limit", 10)), 3)
    return _json({"products": PRODUCTS[start:start + size], "total_count": len(PRODUCTS)})


def prices(request: Request) -> Response:
    """``page`` numbers in ``Link`` headers, 2 a page."""
    page = int(request.args.get("page", 1))
    rows = PRICES[(page - 1) * PAGE:page * PAGE]
    response = _json(rows)
    if page * PAGE < len(PRICES):
        response.headers["Link"] = f'<{request.base_url}?page={page + 1}>; rel="next"'
    return response


def events(request: Request) -> Response:
    """``links.next`` URLs, 2 a page."""
    start = int(request.args.get("from", 0))
    following = start + PAGE if start + PAGE < len(PRICES) else None
    return _json({"results": PRICES[start:start + PAGE], "links": {
        "next": f"{request.base_url}?from={following}" if following else None}})


def test_init_from_a_spec_url_then_run_reads_every_record(tmp_path, httpserver):
    spec = billing_openapi30()
    httpserver.expect_request("/specs/billing.json").respond_with_json(spec)
    httpserver.expect_request("/specs/schemas/invoice.yaml").respond_with_data(
        yaml.safe_dump(INVOICE_FILE), content_type="application/yaml")
    httpserver.expect_request("/v1/customers").respond_with_handler(customers)
    httpserver.expect_request("/v1/products").respond_with_handler(products)
    httpserver.expect_request("/v1/prices").respond_with_handler(prices)
    httpserver.expect_request("/v1/events").respond_with_handler(events)
    for customer in CUSTOMERS:
        httpserver.expect_request(f"/v1/customers/{customer['id']}/invoices"
                                  ).respond_with_handler(invoices)
    output = tmp_path / "billing.yml"
    written = connector("init", "--openapi", httpserver.url_for("/specs/billing.json"),
                        "--paths", "/customers*", "/products", "/prices", "/events",
                        "--output", output)
    assert written.returncode == 0, written.stderr
    env = {"ACME_BILLING_BASE_URL": httpserver.url_for("/v1"), "ACME_BILLING_TOKEN": CANARY_TOKEN}
    run = connector("run", output, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    table = DeltaTable(str(tmp_path / "lake" / "customers")).to_pyarrow_table()
    assert sorted(table["id"].to_pylist()) == [c["id"] for c in CUSTOMERS]
    assert table.schema.field("created").type.unit == "us"
    assert table.schema.field("birthday").type == "date32[day]"
    assert table.schema.field("avatar").type == "binary"
    children = DeltaTable(str(tmp_path / "lake" / "invoices")).to_pyarrow_table()
    assert children.num_rows == len(CUSTOMERS) * INVOICES_PER_CUSTOMER
    assert len(set(children["id"].to_pylist())) == children.num_rows
    lake = tmp_path / "lake"
    assert sorted(DeltaTable(str(lake / "products")).to_pyarrow_table()["id"].to_pylist()) == [
        p["id"] for p in PRODUCTS]
    for name in ("prices", "events"):
        ids = DeltaTable(str(lake / name)).to_pyarrow_table()["id"].to_pylist()
        assert sorted(ids) == sorted(p["id"] for p in PRICES), name
