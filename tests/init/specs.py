"""OpenAPI and Swagger documents written for the tests, in the shapes real APIs publish.

Each names its operations after what it tests; none is copied from a real API's spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ID = {"type": "string"}


def page_of(records_ref: str, **extra: Any) -> dict[str, Any]:
    """An answer object holding ``data`` (an array of the referenced records) and ``extra``."""
    return {"type": "object",
            "properties": {"data": {"type": "array", "items": {"$ref": records_ref}}, **extra}}


def query(name: str, schema: dict | None = None, **more: Any) -> dict[str, Any]:
    """An OpenAPI 3 query parameter."""
    return {"name": name, "in": "query", "schema": schema or {"type": "integer"}, **more}


def get(schema: dict, *params: dict, headers: dict | None = None, **more: Any) -> dict:
    """An OpenAPI 3 GET operation answering ``schema`` as JSON."""
    answer: dict[str, Any] = {"description": "ok",
                              "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return {"get": {"parameters": list(params), "responses": {"200": answer}, **more}}


def billing_openapi30() -> dict[str, Any]:
    """A billing API in OpenAPI 3.0 with one operation per pagination style, bearer auth,
    ``allOf``/``oneOf`` records, ``$ref``s into ``schemas/invoice.yaml`` beside it."""
    customers = page_of("#/components/schemas/Customer", has_more={"type": "boolean"},
                        url={"type": "string"})
    return {
        "openapi": "3.0.3",
        "info": {"title": "Acme Billing API", "version": "1"},
        "servers": [{"url": "https://{region}.billing.example.com/v1",
                     "variables": {"region": {"default": "eu"}}}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/customers": get(customers, query("starting_after", {"type": "string"}),
                              query("created[gte]"),
                              query("limit", {"type": "integer", "maximum": 100}),
                              operationId="listCustomers", tags=["billing"]),
            "/customers/{customer_id}": get({"$ref": "#/components/schemas/Customer"},
                                            {"$ref": "#/components/parameters/CustomerId"}),
            "/customers/{customer_id}/invoices": {
                "parameters": [{"$ref": "#/components/parameters/CustomerId"}],
                **get({"type": "object", "properties": {
                    "items": {"type": "array",
                              "items": {"$ref": "schemas/invoice.yaml#/Invoice"}},
                    "next_page_token": {"type": "string", "nullable": True}}},
                    query("page_token", {"type": "string"}), query("page_size"),
                    operationId="listInvoices", tags=["billing"])},
            "/products": get(
                {"type": "object", "properties": {
                    "products": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/Product"}},
                    "total_count": {"type": "integer"}}},
                query("offset"), query("limit"), operationId="listProducts"),
            "/prices": get({"type": "array", "items": {"$ref": "#/components/schemas/Price"}},
                           query("page"), query("per_page"), operationId="listPrices",
                           headers={"Link": {"schema": {"type": "string"}}}),
            "/coupons": get({"type": "array", "items": {"$ref": "#/components/schemas/Price"}},
                            query("page"), query("per_page"), operationId="listCoupons"),
            "/events": get({"type": "object", "properties": {
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Price"}},
                "links": {"type": "object", "properties": {
                    "next": {"type": "string", "format": "uri", "nullable": True}}}}},
                query("page_size"), operationId="listEvents"),
            "/payouts": get({"type": "object", "properties": {
                "value": {"type": "array", "items": {"$ref": "#/components/schemas/Price"}},
                "@odata.nextLink": {"type": "string"}}}, operationId="listPayouts"),
            "/disputes": get({"type": "object", "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Price"}}}},
                query("limit"), operationId="listDisputes"),
            "/balance": get({"type": "object", "properties": {
                "available": {"type": "integer"}, "currency": {"type": "string"}}},
                operationId="getBalance"),
            "/orders/{order_id}/lines": get(page_of("#/components/schemas/Price"),
                                            {"name": "order_id", "in": "path",
                                             "required": True, "schema": ID}),
            "/search": get(page_of("#/components/schemas/Price"),
                           query("q", {"type": "string"}, required=True)),
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "parameters": {"CustomerId": {"name": "customer_id", "in": "path",
                                          "required": True, "schema": ID}},
            "schemas": {
                "Customer": {"allOf": [
                    {"$ref": "#/components/schemas/Object"},
                    {"type": "object", "properties": {
                        "email": {"type": "string", "nullable": True},
                        "created": {"type": "string", "format": "date-time"},
                        "balance": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                        "tax_id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                        "address": {"type": "object", "properties": {
                            "city": {"type": "string"}}},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "avatar": {"type": "string", "format": "byte"},
                        "birthday": {"type": "string", "format": "date"}}}]},
                "Object": {"type": "object", "required": ["id"],
                           "properties": {"id": {"type": "string"}}},
                "Product": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}}},
                "Price": {"type": "object", "properties": {
                    "id": {"type": "string"}, "amount": {"type": "integer"}}},
            },
        },
    }


INVOICE_FILE = {"Invoice": {"type": "object", "properties": {
    "id": {"type": "string"}, "total": {"type": "number"},
    "customer": {"$ref": "#/Reference"}, "lines": {"type": "array", "items": {}}}},
    "Reference": {"type": "string"}}
"""``schemas/invoice.yaml`` beside the billing spec; its own ``$ref`` is relative to it."""


def write_billing(directory: Path, as_yaml: bool = False) -> Path:
    """The billing spec and its schemas file in ``directory``; the spec's path."""
    (directory / "schemas").mkdir(exist_ok=True)
    (directory / "schemas" / "invoice.yaml").write_text(yaml.safe_dump(INVOICE_FILE))
    path = directory / ("billing.yaml" if as_yaml else "billing.json")
    document = billing_openapi30()
    path.write_text(yaml.safe_dump(document) if as_yaml else json.dumps(document))
    return path


def crm_swagger2() -> dict[str, Any]:
    """A CRM in Swagger 2.0 (YAML): API key in a header, offset paging with a total,
    ``next_url`` links, ``x-nullable``, a basic-auth alternative."""
    def op(schema: dict, *params: dict) -> dict:
        return {"get": {"parameters": list(params),
                        "responses": {"200": {"description": "ok", "schema": schema}}}}

    def param(name: str, kind: str = "integer") -> dict:
        return {"name": name, "in": "query", "type": kind}

    return {
        "swagger": "2.0",
        "info": {"title": "Contoso CRM", "version": "2"},
        "host": "crm.example.com", "basePath": "/api/v2", "schemes": ["https"],
        "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                                "basic": {"type": "basic"},
                                "partner": {"type": "oauth2", "flow": "application",
                                            "tokenUrl": "https://crm.example.com/oauth/token",
                                            "scopes": {"deals:read": "read deals"}}},
        "security": [{"key": []}],
        "paths": {
            "/contacts": op({"type": "object", "properties": {
                "records": {"type": "array", "items": {"$ref": "#/definitions/Contact"}},
                "meta": {"type": "object", "properties": {"total": {"type": "integer"}}}}},
                param("skip"), param("limit")),
            "/contacts/{contactId}/notes": op(
                {"type": "object", "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/definitions/Note"}},
                    "next_url": {"type": "string"}}},
                {"name": "contactId", "in": "path", "required": True, "type": "string"}),
            "/users": {"get": {"security": [{"basic": []}], "responses": {"200": {
                "description": "ok", "schema": {"type": "array",
                                                "items": {"$ref": "#/definitions/Note"}}}}}},
            "/deals": {"get": {"security": [{"partner": ["deals:read"]}], "responses": {"200": {
                "description": "ok", "schema": {"type": "array",
                                                "items": {"$ref": "#/definitions/Note"}}}}}},
        },
        "definitions": {
            "Contact": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "phone": {"type": "string", "x-nullable": True},
                "updated_at": {"type": "string", "format": "date-time"}}},
            "Note": {"type": "object", "properties": {"id": {"type": "string"},
                                                      "body": {"type": "string"}}},
        },
    }


def marketing_openapi31() -> dict[str, Any]:
    """A marketing API in OpenAPI 3.1: OAuth2 client credentials, ``after`` cursor with
    ``paging.next.after`` (HubSpot's shape), an API key in the query, 3.1 null types."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Globex Marketing", "version": "3"},
        "servers": [{"url": "https://api.globex.example/marketing/v3"}],
        "components": {"securitySchemes": {
            "oauth": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://login.globex.example/oauth/token",
                "scopes": {"contacts.read": "read contacts", "lists.read": "read lists"}}}},
            "key": {"type": "apiKey", "in": "query", "name": "hapikey"}}},
        "security": [{"oauth": []}],
        "paths": {
            "/campaigns": get({"type": "object", "properties": {
                "results": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": ["string", "null"]},
                    "sent": {"type": ["integer", "null"]}}}},
                "paging": {"type": "object", "properties": {"next": {
                    "type": "object", "properties": {"after": {"type": "string"},
                                                     "link": {"type": "string"}}}}}}},
                query("after", {"type": "string"}),
                query("limit", {"type": "integer", "maximum": 100})),
            "/lists": get({"type": "array", "items": {"type": "object", "properties": {
                "listId": {"type": "integer"}}}}, query("page"), security=[{"key": []}]),
        },
    }
