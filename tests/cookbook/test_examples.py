"""Every cookbook example runs as it is against a fixture API answering in that API's
documented shape (traps included), into Delta tables read back."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.conftest import (
    BIN,
    CANARY_CLIENT_SECRET,
    CANARY_KEY,
    CANARY_PASSWORD,
    CANARY_TOKEN,
    CANARY_USER,
    assert_no_canary,
)
from tests.cookbook import business_apis, dev_apis
from tests.cookbook.fixture_api import FixtureApi

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOT_IN_COOKBOOK = {"customer_sync.yml", "oauth2_sync.yml"}
"""Run by the demo and the OAuth2 pipeline tests, against their own servers."""


@dataclass(frozen=True)
class Example:
    api: Callable[[str], FixtureApi]
    base_env: str
    env: dict[str, str]
    tables: dict[str, int]
    """Delta table (under OUTPUT_DIR) → rows expected."""


COOKBOOK = {
    "github_issues.yml": Example(
        dev_apis.github, "GITHUB_API_URL", {"GITHUB_TOKEN": CANARY_TOKEN, "GITHUB_ORG": "acme"},
        {"github/repos": len(dev_apis.GITHUB_REPOS),
         "github/issues": sum(dev_apis.GITHUB_ISSUES.values())}),
    "stripe_billing.yml": Example(
        business_apis.stripe, "STRIPE_API_URL", {"STRIPE_SECRET_KEY": CANARY_TOKEN},
        {"stripe/customers": business_apis.STRIPE_CUSTOMERS,
         "stripe/balance_transactions": 3}),
    "hubspot_contacts.yml": Example(
        business_apis.hubspot, "HUBSPOT_API_URL", {"HUBSPOT_TOKEN": CANARY_TOKEN},
        {"hubspot/contacts": business_apis.HUBSPOT_CONTACTS,
         "hubspot/companies": business_apis.HUBSPOT_COMPANIES}),
    "jira_issues.yml": Example(
        dev_apis.jira, "JIRA_API_URL", {"JIRA_EMAIL": CANARY_USER, "JIRA_API_TOKEN": CANARY_TOKEN},
        {"jira/issues": dev_apis.JIRA_ISSUES, "jira/worklogs": 2 * (dev_apis.JIRA_ISSUES - 1)}),
    "zendesk_tickets.yml": Example(
        dev_apis.zendesk, "ZENDESK_API_URL",
        {"ZENDESK_EMAIL": CANARY_USER, "ZENDESK_API_TOKEN": CANARY_PASSWORD},
        {"zendesk/tickets": dev_apis.ZENDESK_TICKETS, "zendesk/users": dev_apis.ZENDESK_USERS}),
    "notion_database.yml": Example(
        dev_apis.notion, "NOTION_API_URL",
        {"NOTION_TOKEN": CANARY_TOKEN, "NOTION_DATABASE_ID": "db-1"},
        {"notion/pages": dev_apis.NOTION_PAGES,
         "notion/blocks": dev_apis.NOTION_PAGES * dev_apis.NOTION_BLOCKS}),
    "shopify_orders.yml": Example(
        business_apis.shopify, "SHOPIFY_API_URL", {"SHOPIFY_ACCESS_TOKEN": CANARY_TOKEN},
        {"shopify/orders": business_apis.SHOPIFY_ORDERS}),
    "salesforce_accounts.yml": Example(
        business_apis.salesforce, "SALESFORCE_API_URL",
        {"SALESFORCE_CLIENT_ID": business_apis.SALESFORCE_CLIENT_ID,
         "SALESFORCE_CLIENT_SECRET": CANARY_CLIENT_SECRET},
        {"salesforce/accounts": business_apis.SALESFORCE_ACCOUNTS}),
    "pokeapi_pokemon.yml": Example(
        business_apis.pokeapi, "POKEAPI_URL", {},
        {"pokeapi/pokemon": len(business_apis.POKEMON),
         "pokeapi/pokemon_details": len(business_apis.POKEMON)}),
    "openweather_forecast.yml": Example(
        business_apis.openweather, "OPENWEATHER_API_URL", {"OPENWEATHER_API_KEY": CANARY_KEY},
        {"openweather/weather": 1, "openweather/forecast": business_apis.FORECAST_ITEMS}),
}


def test_every_example_is_in_the_cookbook_test():
    on_disk = {path.name for path in EXAMPLES.glob("*.yml")}
    assert on_disk - NOT_IN_COOKBOOK == set(COOKBOOK)
    assert len(COOKBOOK) >= 10


def run_example(name: str, api: FixtureApi, base: str, output: Path,
                example: Example) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **example.env, example.base_env: base, "OUTPUT_DIR": str(output)}
    result = subprocess.run([str(BIN / "rest-connector"), "run", str(EXAMPLES / name),
                             "--state", str(output / "state.json")],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    assert_no_canary(result.stdout, result.stderr)
    return result


@pytest.mark.parametrize("name", sorted(COOKBOOK))
def test_the_example_runs_against_its_api(tmp_path, httpserver, name):
    example = COOKBOOK[name]
    base = httpserver.url_for("").rstrip("/")
    api = example.api(base)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    result = run_example(name, api, base, tmp_path, example)
    assert result.returncode == 0, result.stderr[-3000:]
    for table, rows in example.tables.items():
        assert DeltaTable(str(tmp_path / table)).to_pyarrow_table().num_rows == rows, table
    assert "Traceback" not in result.stderr
    assert 401 not in api.statuses and 400 not in api.statuses  # right auth, traps avoided


def test_stripe_newest_first_the_rerun_asks_from_the_highest_created(tmp_path, httpserver):
    example = COOKBOOK["stripe_billing.yml"]
    base = httpserver.url_for("").rstrip("/")
    api = example.api(base)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    assert run_example("stripe_billing.yml", api, base, tmp_path, example).returncode == 0
    api.seen.clear()
    again = run_example("stripe_billing.yml", api, base, tmp_path, example)
    assert again.returncode == 0, again.stderr[-3000:]
    asked = [args["created[gte]"] for path, args in api.seen if path == "/v1/customers"]
    newest = 1700000000 + business_apis.STRIPE_CUSTOMERS * 3600
    assert asked[-1] == str(newest)  # (the first, from schema inference, is at start_value)
    table = DeltaTable(str(tmp_path / "stripe/customers")).to_pyarrow_table()
    assert table.num_rows == business_apis.STRIPE_CUSTOMERS


def test_github_a_repository_with_issues_disabled_reads_no_issues(tmp_path, httpserver):
    example = COOKBOOK["github_issues.yml"]
    base = httpserver.url_for("").rstrip("/")
    api = example.api(base)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    result = run_example("github_issues.yml", api, base, tmp_path, example)
    assert result.returncode == 0
    assert "/repos/acme/docs/issues" in [path for path, _ in api.seen]
    issues = DeltaTable(str(tmp_path / "github/issues")).to_pyarrow_table()
    assert set(issues["_repos_full_name"].to_pylist()) == {"acme/web", "acme/api"}


def test_hubspot_pages_stay_within_its_cap(tmp_path, httpserver):
    example = COOKBOOK["hubspot_contacts.yml"]
    base = httpserver.url_for("").rstrip("/")
    api = example.api(base)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(api)
    assert run_example("hubspot_contacts.yml", api, base, tmp_path, example).returncode == 0
    contacts = [args for path, args in api.seen if path == "/crm/v3/objects/contacts"]
    assert [args.get("after") for args in contacts] == [None, "100", "200"]
    assert {args["limit"] for args in contacts} == {"100"}
