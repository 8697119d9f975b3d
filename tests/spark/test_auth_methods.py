"""The Spark data source takes the tap's auth settings as they are: a session API whose
sessions expire after 3 requests, read in partitions, and a JWT bearer grant."""

from __future__ import annotations

from tests.auth_keys import RSA_KEY
from tests.conftest import assert_no_canary
from tests.oauth2_server import ProtectedApi, TokenServer
from tests.session_api import SessionApi
from tests.spark.conftest import read


def test_partitions_log_in_and_again_when_their_sessions_expire(
    spark, spark_log, session_api: SessionApi
):
    session_api.total, session_api.page_size = 40, 2
    mark = spark_log.mark()

    frame = read(spark, {"streams": [session_api.stream(auth=session_api.auth())]},
                 partitions=4)

    assert sorted(row["id"] for row in frame.toArrow().to_pylist()) == list(range(40))
    assert len(session_api.logins) >= 7  # 20 pages, at most 3 per session
    assert_no_canary(spark_log.since(mark))


def test_a_service_account_reads_through_the_jwt_bearer_grant(
    spark, spark_log, httpserver, token_server: TokenServer
):
    token_server.public_key = RSA_KEY.public_pem
    api = ProtectedApi(httpserver, token_server, pages=3)
    auth = {"type": "oauth2", "grant_type": "jwt_bearer", "token_url": token_server.url,
            "private_key": RSA_KEY.private_pem, "claims": {"iss": "reader@example.com"}}
    mark = spark_log.mark()

    frame = read(spark, {"streams": [api.stream(auth=auth)]}, partitions=1)

    assert [row["id"] for row in frame.toArrow().to_pylist()] == [1, 2, 3]
    assert token_server.assertion_claims[0]["iss"] == "reader@example.com"
    log = spark_log.since(mark)
    assert_no_canary(log)
    assert all(assertion not in log for assertion in token_server.assertions)
