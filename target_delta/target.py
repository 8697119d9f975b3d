"""target-delta: a Singer target that writes each stream to a Delta Lake table (delta-rs)."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import (
    ConfigValidationError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.helpers.capabilities import PluginCapabilities

from rest_api_core.config import forbid_unknown_keys
from rest_api_core.errors import ConfigError, ConnectorError
from rest_api_core.redact import SECRETS, install_log_redaction
from rest_api_core.sdk_seam import TargetHooks
from rest_api_core.startup import FreezesImportsMixin
from rest_api_core.stream_maps import passes_unchanged
from rest_api_core.strict_config import StrictConfigMixin
from rest_api_core.target_shutdown import DRAIN_DEADLINE, GracefulShutdownMixin
from target_delta.maintenance import MAINTENANCE_PROPERTIES, Maintenance
from target_delta.reader import FastSingerReader
from target_delta.sinks import DeltaSink
from target_delta.storage import (
    AWS_CREDENTIAL_PROPERTIES,
    TablePaths,
    is_secret_option,
    storage_options_for,
)
from target_delta.table import APPEND, BATCH, MERGE, OVERWRITE, RUN, StreamTable

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink

install_log_redaction()

MODE_ALIASES = {
    APPEND: APPEND, MERGE: MERGE, OVERWRITE: OVERWRITE,
    "append-only": APPEND, "upsert": MERGE,  # the SDK's load_method names
}

CONFIG_SCHEMA = forbid_unknown_keys(
    th.PropertiesList(
        th.Property(
            "path", th.StringType, required=True, title="Table path",
            description="Local path, file:// or s3:// URI of the Delta table. May contain "
                        "{stream}; without it, a run with several streams writes each to "
                        "<path>/<stream>.",
        ),
        th.Property(
            "mode", th.StringType, title="Write mode",
            allowed_values=list(MODE_ALIASES),
            description="overwrite (replace the table once per run, atomically), append "
                        "(commit every batch) or merge (update rows with the same keys, insert "
                        "the rest). The SDK's load_method names append-only and upsert are "
                        "accepted too. Default: load_method, else append.",
        ),
        th.Property(
            "merge_keys", th.ArrayType(th.StringType), title="Merge keys",
            description="Columns that identify a row in merge mode (default: the stream's "
                        "key properties)",
        ),
        th.Property(
            "append_commit", th.StringType, default=BATCH, allowed_values=[BATCH, RUN],
            title="Append commit",
            description="append mode: batch (commit every drained batch; STATE follows each "
                        "commit) or run (stage the stream's rows as uncommitted files and add "
                        "them in one commit when the stream completes: its closing "
                        "ACTIVATE_VERSION, else the end of the input; a failed run adds "
                        "nothing)",
        ),
        th.Property(
            "partition_by", th.ArrayType(th.StringType), title="Partition columns",
            description="Columns to partition new tables by",
        ),
        th.Property(
            "storage_options", th.ObjectType(additional_properties=th.StringType),
            title="Storage options",
            description="Passed to delta-rs (endpoint, region, credentials, "
                        "AWS_S3_ALLOW_UNSAFE_RENAME, ...). For s3:// paths the AWS_* "
                        "environment variables are used too; these settings win. Values of "
                        "keys naming a secret, key, token, password or credential are masked "
                        "in every log and error; set AWS credentials in the aws_* settings, "
                        "which are stored as secrets.",
        ),
        *AWS_CREDENTIAL_PROPERTIES,
        *MAINTENANCE_PROPERTIES,
        th.Property(
            "validate_records", th.BooleanType, title="Validate records",
            description="Validate every record against its JSON Schema before conversion "
                        "(default false: the Arrow conversion already checks each value "
                        "against its column type, much faster)",
        ),
        th.Property(
            "delete_batch_files", th.BooleanType, default=False,
            title="Delete batch files",
            description="Delete each local file of a BATCH message once its rows are "
                        "committed (or staged, in overwrite mode). Only when this target is "
                        "the files' only reader.",
        ),
        th.Property(
            "allow_unconfirmed_overwrite", th.BooleanType, default=False,
            title="Allow unconfirmed overwrite",
            description="Overwrite mode, for taps that send no ACTIVATE_VERSION: commit a "
                        "stream's replacement at the end of the input. The end of a failed "
                        "extraction then looks the same as a complete one, so by default "
                        "(false) such a stream is not committed and the run fails.",
        ),
        DRAIN_DEADLINE,
    ).to_dict()
)


class TargetDelta(TargetHooks, FreezesImportsMixin, StrictConfigMixin, GracefulShutdownMixin,
                  Target):
    """Singer target writing Delta Lake tables with delta-rs.

    An overwrite is committed when the tap marks the stream's read complete: the closing
    ACTIVATE_VERSION of the version its records carry. Input that ends without that mark (the
    tap failed, crashed or was stopped) commits nothing; the table keeps its previous version.

    SIGTERM/SIGINT (``GracefulShutdownMixin``): input stops, buffered batches are committed
    within ``drain_deadline``, STATE follows, exit 143/130. A staged overwrite is the
    exception: the run's data is incomplete, so it is discarded, the table keeps its previous
    version and no STATE is written.
    """

    name = "target-delta"
    package_name = "rest-api-connector"
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = DeltaSink
    message_reader_class = FastSingerReader
    capabilities: t.ClassVar = [*Target.capabilities, PluginCapabilities.ACTIVATE_VERSION]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._tables: dict[str, StreamTable] = {}
        self._direct_sinks: dict[str, DeltaSink] = {}
        self._not_committed: list[str] = []
        super().__init__(*args, **kwargs)
        self._paths = TablePaths(self.config["path"])

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the CLI; an expected failure is one clear (redacted) line and exit status 1."""
        try:
            super().invoke(*args, **kwargs)
        except ConnectorError as error:
            cls.logger.error("%s", error)
            sys.exit(1)

    # -- settings ------------------------------------------------------------------------

    def check_settings(self, config: dict[str, t.Any], *, raise_errors: bool) -> list[str]:
        """The strict check, then the settings that depend on each other."""
        options = config.get("storage_options")
        if isinstance(options, dict):  # before any message can show them
            SECRETS.add(*(v for k, v in options.items() if is_secret_option(str(k))))
        problems = super().check_settings(config, raise_errors=raise_errors)
        mode, load_method = config.get("mode"), config.get("load_method")
        if (mode and load_method and MODE_ALIASES.get(mode) != MODE_ALIASES.get(load_method)):
            problems.append(f"mode: {mode!r} contradicts load_method {load_method!r}; "
                            f"set only one of them")
        try:
            Maintenance.of(config)
        except ConnectorError as error:
            problems.append(str(error))
        if problems and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=problems,
                                        schema=self.config_jsonschema)
        return problems

    @property
    def mode(self) -> str:
        """append, merge or overwrite (``mode``, else ``load_method``, else append)."""
        chosen = self.config.get("mode") or self.config.get("load_method") or APPEND
        return MODE_ALIASES[chosen]

    # -- tables --------------------------------------------------------------------------

    def stream_table(self, stream: str, key_properties: t.Sequence[str]) -> StreamTable:
        """The stream's table writer for this run (kept across SCHEMA changes)."""
        keys = list(self.config.get("merge_keys") or key_properties or [])
        if self.mode == MERGE and not keys:
            raise ConfigError(
                f"stream {stream!r}: mode merge needs keys, but the stream has no key "
                f"properties and merge_keys is not set"
            )
        table = self._tables.get(stream)
        if table is None:
            uri = self._paths.for_stream(stream)
            table = StreamTable(
                stream, uri, mode=self.mode,
                storage_options=storage_options_for(uri, self.config),
                partition_by=self.config.get("partition_by") or (),
                append_commit=self.config.get("append_commit") or BATCH,
                logger=self.logger.getChild(stream),
            )
            self._tables[stream] = table
            if self._paths.several:
                self._separate_streams()
        table.merge_keys = keys
        return table

    def _separate_streams(self) -> None:
        """A second stream arrived under a path without {stream}: each gets <path>/<stream>."""
        for stream, table in self._tables.items():
            uri = self._paths.for_stream(stream)
            if table.uri == uri:
                continue
            if table.commits:
                raise ConfigError(
                    f"path {self._paths.path!r} has no {{stream}}, and stream {stream!r} was "
                    f"already committed there before another stream arrived; put {{stream}} "
                    f"in path to give each stream its own table"
                )
            self.logger.info("Several streams: stream %r goes to %s", stream, uri)
            table.move(uri)

    def get_sink(self, stream_name: str, *, record: dict | None = None,
                 schema: dict | None = None,
                 key_properties: t.Sequence[str] | None = None) -> Sink:
        """As the SDK's, but a sink replaced by a new SCHEMA is drained first, so the
        stream's batches reach the table in the order the records arrived."""
        existing = self.active_sinks.get(stream_name)
        if schema is not None and existing is not None and (
            existing.original_schema != schema or existing.key_properties != key_properties
        ):
            self.drain_one(existing)
        return super().get_sink(stream_name, record=record, schema=schema,
                                key_properties=key_properties)

    # -- records -------------------------------------------------------------------------

    def on_schema_message(self, message_dict: dict) -> None:
        """As the SDK's; a stream whose records nothing changes takes the direct way in."""
        super().on_schema_message(message_dict)
        stream = message_dict["stream"]
        maps = self.mapper.stream_maps.get(stream, [])
        sink = self.active_sinks.get(stream)
        if (passes_unchanged(maps, stream) and sink is not None
                and not sink.include_sdc_metadata_properties):
            self._direct_sinks[stream] = sink
        else:
            self._direct_sinks.pop(stream, None)

    def on_record_message(self, message_dict: dict) -> None:
        """The SDK's record path without its per-record work that has no effect here.

        For a stream without stream maps, flattening or metadata columns, the SDK would copy
        the record, pass it through the identity map, pop absent ``_sdc_*`` keys and parse
        date-times into objects that Arrow then converts back; columns are converted a batch
        at a time instead (``rest_api_core.arrow.convert``). Validation (if enabled), the key
        properties check, counters and drains are kept.
        """
        sink = self._direct_sinks.get(message_dict.get("stream"))  # type: ignore[arg-type]
        record = message_dict.get("record")
        version = message_dict.get("version")
        if sink is None or not isinstance(record, dict):
            if version is not None:
                for table in self._tables_of(message_dict["stream"]):
                    if table.version != version:
                        table.begin(version)
            self.sdk_process_record_message(message_dict)
            return
        if version is not None and sink.table.version != version:
            sink.table.begin(version)
        sink.check_record(record)
        for key in sink.key_properties:
            if key not in record:
                raise MissingKeyPropertiesError(
                    f"Record is missing one or more key_properties. \n"
                    f"Key Properties: {list(sink.key_properties)}, "
                    f"Record Keys: {list(record)}"
                )
        sink.tally_record_read()
        sink.process_record(record, sink.sdk_context(record))
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.drain_one(sink)
        self.check_record_age()

    # -- completion (ACTIVATE_VERSION), end of input and STATE -----------------------------

    def _tables_of(self, stream: str) -> list[StreamTable]:
        """The tables an input stream is written to (one per stream map alias)."""
        aliases = [m.stream_alias for m in self.mapper.stream_maps.get(stream, [])]
        return [self._tables[a] for a in aliases or [stream] if a in self._tables]

    def on_activate_version_message(self, message_dict: dict) -> None:
        """A version seen for the first time starts a full-table read; seen again (after its
        records), it completes it: the stream's overwrite is committed now, in one commit.

        The same for an atomic append (``append_commit: run``). Batch appends and merge commit
        batch by batch and need no mark; ``process_activate_version_messages: false`` ignores
        the marks (the staged rows are then unconfirmed)."""
        self.require_keys(message_dict, {"stream", "version"})
        staged = self.mode == OVERWRITE or (
            self.mode == APPEND and self.config.get("append_commit") == RUN)
        if not staged or not self.config.get("process_activate_version_messages", True):
            return
        stream, version = message_dict["stream"], message_dict["version"]
        if stream not in self.mapper.stream_maps:
            raise RecordsWithoutSchemaException(
                f"ACTIVATE_VERSION for stream {stream!r} arrived before its SCHEMA"
            )
        for stream_map in self.mapper.stream_maps[stream]:
            sink = self.get_sink(stream_map.stream_alias)
            table = self._tables[sink.stream_name]
            if table.version != version:
                table.begin(version)
                continue
            self.drain_one(sink)
            if table.pending:
                table.finish()

    def finish_stream(self, sink: DeltaSink) -> None:
        """At the end of input (the SDK's clean-up, before its final STATE): staged rows that
        no closing ACTIVATE_VERSION confirmed are not committed, unless the stream carries no
        marks and is an atomic append (an incremental stream completes with the input) or
        ``allow_unconfirmed_overwrite`` is set. Only the stream's current sink decides,
        once."""
        if self.active_sinks.get(sink.stream_name) is not sink:
            return
        table = self._tables[sink.stream_name]
        if not table.pending:
            return
        if self._shutdown.requested:
            self.logger.warning(
                "Stream %r: the run was interrupted, so its %s of %s is incomplete and is not "
                "committed; the table keeps its previous version, no STATE is written",
                sink.stream_name, table.mode, table.uri,
            )
        elif table.version is None and (table.mode == APPEND
                                        or self.config.get("allow_unconfirmed_overwrite")):
            table.finish()
            return
        else:
            if table.version is not None:
                why = (f"the input ended before the stream's completion (no closing "
                       f"ACTIVATE_VERSION for version {table.version}): the tap failed or "
                       f"stopped early")
            else:
                why = ("the input ended without ACTIVATE_VERSION marks, so a complete read "
                       "cannot be told from a failed one (tap-rest-api sends them; or set "
                       "allow_unconfirmed_overwrite)")
            self.logger.error(
                "Stream %r: the %s of %s was NOT committed: %s. The table keeps its previous "
                "version; no STATE is written", sink.stream_name,
                "replacement" if table.mode == OVERWRITE else "atomic append", table.uri, why,
            )
            self._not_committed.append(sink.stream_name)
        table.discard()

    def process_endofpipe(self) -> None:
        """As the SDK's; then fail the run if staged rows could not be committed, else keep
        the tables this run wrote healthy (``optimize``, ``vacuum``)."""
        super().process_endofpipe()
        if self._not_committed:
            raise ConnectorError(
                f"{self.mode} not committed for stream(s) {', '.join(self._not_committed)}: the "
                f"input ended before their completion; the tables keep their previous versions"
            )
        maintenance = Maintenance.of(self.config)
        if maintenance.wanted:
            for table in self._tables.values():
                if table.commits:
                    maintenance.run(table.target.table(), self.logger)

    def on_state_ready(self, state: dict) -> None:
        """STATE only once every record before it is committed: while an overwrite is
        staged, STATE waits (the SDK writes the latest one after the final commits)."""
        if any(table.pending for table in self._tables.values()):
            self.logger.debug("STATE held until the staged overwrite is committed")
            return
        super().on_state_ready(state)

if __name__ == "__main__":
    TargetDelta.cli()
