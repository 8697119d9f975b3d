"""The tap's Singer writer: RECORD lines written straight from records are the SDK's bytes."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta, timezone

import pytest
from singer_sdk.singerlib import RecordMessage

from tap_rest_api.output import BufferedMsgSpecWriter


def _written(monkeypatch: pytest.MonkeyPatch, write) -> bytes:
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    writer = BufferedMsgSpecWriter()
    write(writer)
    writer.flush()
    return out.getvalue()


@pytest.mark.parametrize("version", [None, 1733300000])
@pytest.mark.parametrize("extracted", [None, datetime(2026, 12, 4, 12, 0, 1, 123456,
                                                      tzinfo=timezone.utc)])
def test_write_record_is_byte_for_byte_the_record_message(monkeypatch, version, extracted):
    record = {"id": 2**70, "name": "ä \"q\"", "score": 1.5, "nested": {"a": [1, None]},
              "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))}
    direct = _written(monkeypatch, lambda w: w.write_record("s", dict(record), version,
                                                           extracted))
    via_sdk = _written(monkeypatch, lambda w: w.write_message(RecordMessage(
        stream="s", record=dict(record), version=version, time_extracted=extracted)))
    assert direct == via_sdk
    assert direct.endswith(b"\n") and direct.count(b"\n") == 1
