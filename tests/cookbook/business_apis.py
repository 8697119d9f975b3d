"""Fixture APIs in the documented shapes of Stripe, HubSpot, Shopify, Salesforce, PokéAPI and
OpenWeather, traps included."""

from __future__ import annotations

from werkzeug import Request

from tests.conftest import CANARY_CLIENT_SECRET, CANARY_KEY, CANARY_TOKEN
from tests.cookbook.fixture_api import FixtureApi, answer, page_slice

STRIPE_CUSTOMERS = 5


def _bearer(token: str):
    return lambda request: request.headers.get("Authorization") == f"Bearer {token}"


def stripe(_base: str) -> FixtureApi:
    """Customers NEWEST FIRST (Stripe's order), ``starting_after``/``has_more``, 2 a page."""
    api = FixtureApi(_bearer(CANARY_TOKEN))
    customers = [{"id": f"cus_{n}", "object": "customer", "created": 1700000000 + n * 3600,
                  "email": f"c{n}@example.com"} for n in range(STRIPE_CUSTOMERS, 0, -1)]

    def listing(items: list, request: Request) -> object:
        if int(request.args.get("limit", 10)) > 100:
            return answer({"error": {"message": "limit must be at most 100"}}, 400)
        after = request.args.get("starting_after")
        start = next(i + 1 for i, c in enumerate(items) if c["id"] == after) if after else 0
        chunk, following = page_slice(items, start, 2)
        return answer({"object": "list", "url": request.path, "data": chunk,
                       "has_more": following is not None})

    @api.route("GET", r"/v1/customers")
    def list_customers(request, _):
        since = int(request.args.get("created[gte]", 0))
        return listing([c for c in customers if c["created"] >= since], request)

    @api.route("GET", r"/v1/customers/(cus_\d+)/balance_transactions")
    def transactions(request, found):
        number = int(found.group(1).split("_")[1])
        rows = [{"id": f"cbtxn_{number}_{k}", "amount": -500, "created": 1700000000}
                for k in range(number % 2)]
        return listing(rows, request)

    return api


HUBSPOT_CONTACTS = 230
HUBSPOT_COMPANIES = 3


def hubspot(_base: str) -> FixtureApi:
    """``paging.next.after``; 400 for a ``limit`` above 100 (HubSpot's cap)."""
    api = FixtureApi(_bearer(CANARY_TOKEN))

    def listing(kind: str, count: int, request: Request) -> object:
        limit = int(request.args.get("limit", 10))
        if limit > 100:
            return answer({"status": "error", "category": "VALIDATION_ERROR",
                           "message": "limit must be less than or equal to 100"}, 400)
        rows = [{"id": str(n), "properties": {"name": f"{kind} {n}"},
                 "createdAt": "2025-01-01T00:00:00Z", "archived": False}
                for n in range(1, count + 1)]
        chunk, following = page_slice(rows, int(request.args.get("after") or 0), limit)
        body: dict = {"results": chunk}
        if following is not None:
            body["paging"] = {"next": {"after": str(following), "link": "?after=x"}}
        return answer(body)

    api.route("GET", r"/crm/v3/objects/contacts")(
        lambda request, _: listing("contact", HUBSPOT_CONTACTS, request))
    api.route("GET", r"/crm/v3/objects/companies")(
        lambda request, _: listing("company", HUBSPOT_COMPANIES, request))
    return api


SHOPIFY_ORDERS = 3


def shopify(base: str) -> FixtureApi:
    """``Link`` headers with ``page_info``; 400 when ``page_info`` comes with other filters."""
    api = FixtureApi(lambda r: r.headers.get("X-Shopify-Access-Token") == CANARY_TOKEN)
    orders = [{"id": 5000 + n, "name": f"#{1000 + n}", "updated_at": f"2025-04-0{n}T12:00:00Z",
               "total_price": "19.90"} for n in range(1, SHOPIFY_ORDERS + 1)]

    @api.route("GET", r"/admin/api/2024-10/orders\.json")
    def list_orders(request, _):
        page_info = request.args.get("page_info")
        if page_info and set(request.args) - {"page_info", "limit"}:
            return answer({"errors": "page_info: only limit may be sent with it"}, 400)
        if not page_info and request.args.get("status") != "any":
            return answer({"orders": []})
        start = int(page_info or 0)
        chunk, following = page_slice(orders, start, 2)
        headers = {}
        if following is not None:
            headers["Link"] = (f'<{base}{request.path}?limit=250&page_info={following}>; '
                               f'rel="next"')
        return answer({"orders": chunk}, headers=headers)

    return api


SALESFORCE_ACCOUNTS = 3
SALESFORCE_CLIENT_ID = "connector-client"


def salesforce(_base: str) -> FixtureApi:
    """OAuth2 client credentials (client in the body); ``nextRecordsUrl`` paths."""
    api = FixtureApi(_bearer("sf-access-token"), public=("/services/oauth2/token",))

    @api.route("POST", r"/services/oauth2/token")
    def token(request, _):
        form = request.form
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials", SALESFORCE_CLIENT_ID, CANARY_CLIENT_SECRET):
            return answer({"error": "invalid_client"}, 400)
        return answer({"access_token": "sf-access-token", "token_type": "Bearer",
                       "instance_url": "x"})

    records = [{"attributes": {"type": "Account"}, "Id": f"001{n:03d}", "Name": f"Account {n}"}
               for n in range(SALESFORCE_ACCOUNTS)]

    @api.route("GET", r"/services/data/v60.0/query")
    def query(request, _):
        if not request.args.get("q", "").startswith("SELECT Id, Name"):
            return answer([{"errorCode": "MALFORMED_QUERY"}], 400)
        return answer({"totalSize": len(records), "done": False, "records": records[:2],
                       "nextRecordsUrl": "/services/data/v60.0/query/01gD0-2000"})

    @api.route("GET", r"/services/data/v60.0/query/01gD0-2000")
    def more(request, _):
        return answer({"totalSize": len(records), "done": True, "records": records[2:]})

    return api


POKEMON = ["bulbasaur", "ivysaur", "venusaur"]


def pokeapi(base: str) -> FixtureApi:
    """``next`` absolute URLs; a detail object per Pokémon, with more fields than declared."""
    api = FixtureApi(lambda _request: True)

    @api.route("GET", r"/api/v2/pokemon")
    def listing(request, _):
        offset = int(request.args.get("offset", 0))
        chunk, following = page_slice(POKEMON, offset, 2)
        return answer({"count": len(POKEMON),
                       "next": (f"{base}/api/v2/pokemon?offset={following}&limit=2"
                                if following is not None else None),
                       "previous": None,
                       "results": [{"name": n, "url": f"{base}/api/v2/pokemon/{n}/"}
                                   for n in chunk]})

    @api.route("GET", r"/api/v2/pokemon/([a-z]+)")
    def detail(_request, found):
        number = POKEMON.index(found.group(1)) + 1
        return answer({"id": number, "name": found.group(1), "height": 7, "weight": 69,
                       "base_experience": 64, "types": [{"slot": 1}], "sprites": {},
                       "moves": []})

    return api


FORECAST_ITEMS = 40


def openweather(_base: str) -> FixtureApi:
    """``appid`` in the query; 401 with OpenWeather's body otherwise."""
    api = FixtureApi(lambda r: r.args.get("appid") == CANARY_KEY)

    @api.route("GET", r"/data/2.5/weather")
    def weather(request, _):
        return answer({"coord": {"lon": -0.13, "lat": 51.51}, "main": {"temp": 11.2},
                       "name": request.args.get("q"), "cod": 200, "dt": 1733600000})

    @api.route("GET", r"/data/2.5/forecast")
    def forecast(request, _):
        return answer({"cod": "200", "cnt": FORECAST_ITEMS, "city": {"name": "London"},
                       "list": [{"dt": 1733600000 + 10800 * n, "dt_txt": "2024-12-07 21:00:00",
                                 "main": {"temp": 10}, "weather": [{"id": 800}],
                                 "wind": {"speed": 3}, "visibility": 10000}
                                for n in range(FORECAST_ITEMS)]})

    return api
