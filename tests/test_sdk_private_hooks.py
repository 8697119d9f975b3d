"""Every private singer-sdk name the plugins' seams use, checked against the installed SDK.

The plugins lean on a few private singer-sdk methods and attributes (the hot per-record paths,
ACTIVATE_VERSION, batch files, signals, paginator steps), all in their ``sdk_seam`` modules
(``tests/test_sdk_seam.py`` keeps them there and checks that each is listed here). singer-sdk
is pinned to 0.54.x, but a change in any of these would break the plugins quietly: this test
names the hook that moved.
"""

from __future__ import annotations

import importlib
import inspect
from types import SimpleNamespace

import pytest
from singer_sdk import Stream, Tap, Target
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.plugin_base import PluginBase
from singer_sdk.sinks import BatchSink, Sink
from singer_sdk.streams.rest import RESTStream

HOOKS = [
    # (class, method, the parameters we pass or receive, after self)
    (Target, "_process_record_message", ["message_dict"]),
    (Target, "_process_schema_message", ["message_dict"]),
    (Target, "_process_state_message", ["message_dict"]),
    (Target, "_process_activate_version_message", ["message_dict"]),
    (Target, "_write_state_message", ["state"]),
    (Target, "_drain_all", ["sink_list", "parallelism"]),
    (Target, "_handle_max_record_age", []),
    (Target, "_assert_line_requires", ["message_dict", "requires"]),
    (PluginBase, "_validate_config", ["raise_errors"]),
    (PluginBase, "_handle_termination", ["signum", "frame"]),
    (PluginBase, "_setup_signal_handlers", []),
    (Tap, "_reset_state_progress_markers", []),
    (Tap, "_set_compatible_replication_methods", []),
    (Sink, "_validate_and_parse", ["record"]),
    (Sink, "_singer_validate_message", ["record"]),
    (BatchSink, "_get_context", ["record"]),
    (Stream, "_sync_records", ["context", "write_messages"]),
    (Stream, "_write_batch_message", ["encoding", "manifest"]),
    (Stream, "_write_activate_version_message", ["full_table_version"]),
    (Stream, "_write_schema_message", []),
    (Stream, "_write_state_message", []),
    (Stream, "_increment_stream_state", ["latest_record", "context"]),
    (Stream, "_finalize_state", ["state"]),
    (Stream, "_write_starting_replication_value", ["context"]),
    (Stream, "_write_replication_key_signpost", ["context", "value"]),
    (Stream, "_generate_record_messages", ["record"]),
    (Stream, "_write_record_message", ["record"]),
    (Stream, "_process_record", ["record", "child_context", "partition_context"]),
    (RESTStream, "_write_request_duration_log", ["endpoint", "response", "context",
                                                 "extra_tags"]),
]

ATTRIBUTES = [
    # (class, attribute set in the class's own code or defined on it)
    (Stream, "_tap"),
    (Stream, "_stream_version"),
    (Stream, "_initialized_at"),
    (Stream, "_schema"),
    (Stream, "_input_schema"),
    (Stream, "_stream_maps"),
    (Stream, "_metadata"),
    (Stream, "_mask"),
    (RESTStream, "_requests_session"),
    (RESTStream, "_LOG_REQUEST_METRIC_URLS"),
    (BaseAPIPaginator, "_page_count"),
    (BaseAPIPaginator, "_finished"),
    (BaseAPIPaginator, "_value"),
    (PluginBase, "_config"),
    (Sink, "_validator"),
    (Target, "_sinks_active"),
    (Target, "_sinks_to_clear"),
    (Target, "_latest_state"),
]

MODULE_NAMES = [
    ("singer_sdk.helpers._batch", ["BaseBatchFileEncoding", "BatchConfig", "BatchFileFormat"]),
    ("singer_sdk.helpers._catalog", ["pop_deselected_record_properties"]),
    ("singer_sdk.helpers._compat", ["date_fromisoformat", "datetime_fromisoformat",
                                    "time_fromisoformat"]),
    ("singer_sdk.helpers._typing", ["get_datelike_property_type"]),
]


@pytest.mark.parametrize(("owner", "name", "parameters"), HOOKS,
                         ids=[f"{o.__name__}.{n}" for o, n, _ in HOOKS])
def test_private_hook_is_still_there(owner, name, parameters):
    method = getattr(owner, name, None)
    assert callable(method), f"singer-sdk {owner.__name__}.{name} is gone"
    found = [p for p in inspect.signature(method).parameters if p != "self"]
    assert found == parameters, f"singer-sdk {owner.__name__}.{name} now takes {found}"


@pytest.mark.parametrize(("owner", "name"), ATTRIBUTES,
                         ids=[f"{o.__name__}.{n}" for o, n in ATTRIBUTES])
def test_private_attribute_is_still_there(owner, name):
    classes = [cls for cls in inspect.getmro(owner) if cls.__module__.startswith("singer_sdk")]
    defined = any(name in vars(cls) for cls in classes)
    sources = [inspect.getsource(cls) for cls in classes]
    assigned = any(f"self.{name} =" in text or f"self.{name}:" in text for text in sources)
    assert defined or assigned, f"singer-sdk {owner.__name__}.{name} is gone"


@pytest.mark.parametrize(("module", "names"), MODULE_NAMES, ids=[m for m, _ in MODULE_NAMES])
def test_private_module_still_has_what_we_import(module, names):
    imported = importlib.import_module(module)
    assert [n for n in names if not hasattr(imported, n)] == []


def test_pages_ahead_prepare_requests_as_the_sdks_page_loop_does():
    """Requests read ahead are prepared with the public ``build_prepared_request``
    (``request_plan.prepared``); the SDK's own loop prepares its requests the same way, so an
    answer read ahead is used only for the identical request."""
    from tap_rest_api.request_plan import prepared
    from tap_rest_api.tap import TapRestApi

    tap = TapRestApi(config={"streams": [{
        "name": "items", "url": "http://127.0.0.1:9/items", "method": "POST",
        "params": {"a": "1"}, "body": {"b": 2}, "pagination": {"type": "offset"},
        "schema": [{"name": "id", "type": "integer"}]}]}, validate_config=True)
    stream = tap.streams["items"]
    paginator = stream.get_new_paginator()
    ours = prepared(stream, stream.get_http_request(
        page=SimpleNamespace(stream_context=None, next_page_token=paginator.current_value)))
    sdks = stream._prepare_request(context=None, page=paginator)
    assert (ours.method, ours.url, ours.body, dict(ours.headers)) == (
        sdks.method, sdks.url, sdks.body, dict(sdks.headers))


def test_stream_version_is_the_attribute_the_sdk_writes_records_with():
    """``RestApiStream`` reads ``_stream_version`` for its completion mark."""
    source = inspect.getsource(Stream.sync)
    assert "self._stream_version = " in source


def test_record_step_marks_the_state_unflushed_and_record_messages_encode_as_we_do():
    """``RestApiStream._write_record_message`` writes the line itself and sets
    ``state_manager.is_flushed`` as the SDK's step does; ``BufferedMsgSpecWriter.write_record``
    builds the dict that ``RecordMessage.to_dict`` builds and encodes it with the same
    ``serialize_jsonl``."""
    from singer_sdk.contrib import msgspec as sdk_msgspec
    from singer_sdk.singerlib import RecordMessage

    assert "self.state_manager.is_flushed = False" in inspect.getsource(
        Stream._write_record_message)
    assert "serialize_jsonl(message.to_dict())" in inspect.getsource(
        sdk_msgspec.MsgSpecWriter.serialize_message)
    fields = inspect.getsource(RecordMessage.to_dict)
    for key in ('"type": "RECORD"', '"stream": self.stream', '"record": self.record',
                'result["version"]', 'result["time_extracted"]'):
        assert key in fields


def test_stream_state_step_is_the_one_we_mirror():
    """``RestApiStream._write_state_message`` writes the tap's published state in the SDK's
    own steps; ``_write_record_message`` advances the bookmark that ``_sync_records`` would
    advance right after, with the context it hands ``get_records``."""
    source = inspect.getsource(Stream._write_state_message)
    for step in ("if not self.state_manager.is_flushed", "_ = self.stream_state",
                 "self._tap.state_writer.write_state(self.tap_state)",
                 "self.state_manager.is_flushed = True"):
        assert step in source
    loop = inspect.getsource(Stream._sync_records)
    assert "self.get_records(current_context)" in loop
    assert loop.index("self._write_record_message(record)") < loop.index(
        "self._increment_stream_state(record, context=current_context)")


def test_the_steps_we_skip_per_record_do_nothing_in_the_cases_we_skip_them():
    """``_increment_stream_state`` advances only INCREMENTAL streams; ``_process_record`` only
    copies partition keys and syncs children (``RestApiStream`` skips both when idle)."""
    increment = inspect.getsource(Stream._increment_stream_state)
    assert "self.replication_method == REPLICATION_INCREMENTAL" in increment
    process = inspect.getsource(Stream._process_record)
    assert "for key, val in partition_context.items()" in process
    assert "self.generate_child_contexts(" in process
    body = process[process.index('"""', process.index('"""') + 3) + 3:]
    assert body.count("self.") == 3  # generate_child_contexts, stream_maps, _sync_children
