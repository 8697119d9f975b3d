"""The partition planner and page windows, against a real local API (no Spark needed)."""

from __future__ import annotations

import logging

from spark_rest_api.partitions import PageRange, WholeStream, plan, spread
from spark_rest_api.streams import open_stream
from tap_rest_api.pagination import PageWindow
from tests.spark.conftest import DECLARED, items_settings


def test_offset_stream_with_total_splits_into_page_ranges_sharing_the_rate(paged_api):
    settings = items_settings(paged_api.url, DECLARED)
    settings["streams"][0]["rate_limit"] = {"requests_per_second": 8}
    partitions = plan(open_stream(settings, "items"), wanted=4, parallelism=2)
    assert partitions == [PageRange(0, 4.0, 0, 3), PageRange(1, 4.0, 300, 3),
                          PageRange(2, 4.0, 600, 2), PageRange(3, 4.0, 800, 2)]
    assert paged_api.offsets == [0]  # one first page, read to plan


def test_page_windows_read_every_record_once(paged_api):
    settings = items_settings(paged_api.url, DECLARED)
    ids = []
    for partition in plan(open_stream(settings, "items"), wanted=3, parallelism=3):
        stream = open_stream(settings, "items", alone=True,
                             requests_per_second=partition.requests_per_second)
        stream.page_window = partition.window
        ids.extend(record["id"] for record in stream.request_records(None))
    assert ids == list(range(950))
    assert sorted(paged_api.offsets) == [0, *range(0, 950, 100)]  # planning, then each page


def test_page_windows_read_pages_ahead_within_the_window_only(paged_api):
    """With ``concurrency``, a partition requests its window's pages several at a time, in
    page order, and never a page beyond its window."""
    settings = items_settings(paged_api.url, DECLARED)
    settings["streams"][0]["concurrency"] = 4
    paged_api.delay = 0.02
    partitions = plan(open_stream(settings, "items"), wanted=2, parallelism=2)
    assert [p.window for p in partitions] == [PageWindow(0, 5), PageWindow(500, 5)]
    # the stream's short last page (offset 900) is requested once more to confirm it
    for partition, confirmed in zip(partitions, ([], [900]), strict=True):
        paged_api.offsets.clear()
        stream = open_stream(settings, "items", alone=True)
        stream.page_window = partition.window
        ids = [record["id"] for record in stream.request_records(None)]
        first = partition.window.first
        assert ids == list(range(first, min(first + 500, 950)))
        assert sorted(paged_api.offsets) == sorted(
            [*range(first, min(first + 500, 950), 100), *confirmed])
    assert paged_api.most_at_once == 4


def test_cursor_links_and_missing_totals_read_in_one_partition(paged_api, caplog):
    settings = items_settings(paged_api.url, DECLARED)
    settings["streams"][0]["pagination"] = {"type": "next_link", "link_field": "next"}
    assert plan(open_stream(settings, "items"), wanted=4, parallelism=2) == [WholeStream(0, None)]
    assert paged_api.offsets == []
    settings = items_settings(paged_api.url, DECLARED)
    settings["streams"][0]["pagination"]["total_field"] = "meta.count"
    with caplog.at_level(logging.WARNING):
        assert plan(open_stream(settings, "items"), 4, 2) == [WholeStream(0, None)]
    assert "total_field 'meta.count' = None" in caplog.text


def test_spread_keeps_pages_contiguous_and_balanced():
    assert spread(10, 4) == [(0, 3), (3, 3), (6, 2), (8, 2)]
    assert spread(2, 2) == [(0, 1), (1, 1)]
