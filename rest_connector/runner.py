"""Running a pipeline: the tap and one target per output as processes joined by OS pipes.

The tap's stdout is copied line by line to every target's stdin (fan-out), both sides' stderr is
streamed with a label, and the STATE the targets acknowledge is kept in a state file that is
passed back to the tap as ``--state`` on the next run. With several targets, the kept STATE is
the earliest one that every target has acknowledged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from rest_api_core.local_files import local_path
from rest_api_core.redact import SECRETS
from rest_connector.pipeline.output import write_config, write_private_text
from rest_connector.pipeline.translate import OUTPUT_FORMATS, Pipeline, PluginSettings
from rest_connector.progress import (
    LOG_INTERVAL,
    TERMINAL_INTERVAL,
    is_chatter,
    page_of,
    progress_text,
)

BATCH_FILE_ROWS = 20_000
"""Rows per Parquet file handed from the tap to delta outputs."""
_RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
_BATCH_MARKERS = (b'"type":"BATCH"', b'"type": "BATCH"')
_STATE_MARKERS = (b'"type":"STATE"', b'"type": "STATE"')


def executable(name: str) -> str:
    """Path of a console script: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        msg = f"cannot find the executable {name!r}; is rest-api-connector installed?"
        raise FileNotFoundError(msg)
    return found


def _stream_name(line: bytes) -> str:
    start = line.find(b'"stream"')
    if start < 0:
        return "?"
    first = line.find(b'"', line.find(b":", start) + 1)
    return line[first + 1: line.find(b'"', first + 1)].decode(errors="replace")


@dataclass
class ProcessResult:
    """How one child process ended."""

    label: str
    returncode: int
    stopped_for_tap_failure: bool = False
    """An output stopped before the end of its input because the tap failed."""


@dataclass
class RunReport:
    """What a run did, for the summary."""

    records: Counter[str] = field(default_factory=Counter)
    pages_by_stream: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    processes: list[ProcessResult] = field(default_factory=list)
    state_path: Path | None = None
    state_saved: bool = False
    interrupted_by: int | None = None

    @property
    def exit_code(self) -> int:
        """0 when every process succeeded; 128+signal when interrupted; else 1."""
        if self.interrupted_by:
            return 128 + self.interrupted_by
        return 0 if all(p.returncode == 0 for p in self.processes) else 1

    @property
    def pages(self) -> int:
        """Successful requests of the tap, all streams."""
        return sum(self.pages_by_stream.values())

    @property
    def total_records(self) -> int:
        """Records read by the tap, all streams."""
        return sum(self.records.values())


class _Output:
    """Serialises lines written by several threads, keeping a progress line at the bottom."""

    def __init__(self, stream: IO[str], progress: bool) -> None:
        self.stream = stream
        self.progress = progress
        self.lock = threading.Lock()
        self.status = ""

    def line(self, text: str) -> None:
        with self.lock:
            if self.progress and self.status:
                self.stream.write("\r\033[K")
            self.stream.write(SECRETS.redact(text.rstrip("\n")) + "\n")
            if self.progress and self.status:
                self.stream.write(self.status)
            self.stream.flush()

    def show(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.stream.write("\r\033[K" + status)
            self.stream.flush()

    def clear(self) -> None:
        with self.lock:
            if self.status:
                self.stream.write("\r\033[K")
                self.stream.flush()
            self.status = ""


class _Child:
    """One plugin process in its own process group (the runner forwards signals itself)."""

    def __init__(self, label: str, argv: list[str], stdin: int | None,
                 log_level: str | None = None) -> None:
        self.label = label
        level = {"LOGLEVEL": log_level.upper()} if log_level else {}
        self.process = subprocess.Popen(
            argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            process_group=0, env={**os.environ, "PYTHONUNBUFFERED": "1", **level},
        )
        self.last_state: Any = None
        self.open = stdin is not None
        self.stopped_for_tap_failure = False

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)


def _thread(target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


class PipelineRun:
    """One execution of a translated pipeline."""

    def __init__(self, pipeline: Pipeline, state_path: Path, output: IO[str],
                 progress: bool, verbose: bool, log_level: str | None = None) -> None:
        self.pipeline = pipeline
        self.verbose = verbose
        self.log_level = log_level
        self.shown_level = (log_level or os.environ.get("LOGLEVEL") or "info").lower()
        self.state_path = state_path
        self.out = _Output(output, progress)
        self.report = RunReport(state_path=state_path)
        self.tap_states: list[str] = []
        self.children: list[_Child] = []
        self.finished = threading.Event()

    def _pump_stderr(self, child: _Child, count_pages: bool) -> None:
        for raw in child.process.stderr or ():
            page = page_of(raw) if count_pages else None
            if page is not None:
                self.report.pages_by_stream[page] += 1
            if (b"METRIC: " in raw and not self.verbose) or is_chatter(raw, self.shown_level):
                continue
            self.out.line(f"[{child.label}] {raw.decode(errors='replace')}")

    def _pump_target_stdout(self, child: _Child) -> None:
        """Targets print each acknowledged state as one JSON line (Singer convention)."""
        for raw in child.process.stdout or ():
            if raw.strip():
                state = json.loads(raw)
                is_message = isinstance(state, dict) and state.get("type") == "STATE"
                child.last_state = state["value"] if is_message else state

    def _fan_out(self, tap: _Child, targets: list[_Child]) -> None:
        records = self.report.records
        for line in tap.process.stdout or ():
            head = line[:40]
            if any(marker in head for marker in _RECORD_MARKERS):
                records[_stream_name(line)] += 1
            elif any(marker in head for marker in _BATCH_MARKERS):
                message = json.loads(line)
                records[message["stream"]] += sum(map(_rows_in_file, message["manifest"]))
            elif any(marker in head for marker in _STATE_MARKERS):
                self.tap_states.append(json.dumps(json.loads(line)["value"], sort_keys=True))
            for target in targets:
                if target.open:
                    try:
                        target.process.stdin.write(line)
                    except (BrokenPipeError, OSError):
                        target.open = False
            if not any(target.open for target in targets):
                tap.signal(signal.SIGTERM)
                tap.process.stdout.close()
                break
        self._stop_outputs_if_tap_failed(tap, targets)
        for target in targets:
            if target.open:
                with suppress(BrokenPipeError, OSError):
                    target.process.stdin.close()

    def _stop_outputs_if_tap_failed(self, tap: _Child, targets: list[_Child]) -> None:
        """Before the outputs see the end of their input, wait for the tap's verdict: if it
        failed, the outputs are stopped (SIGTERM) first, so the end of a failed extraction is
        never taken for a complete one (an overwrite is not committed, STATE covers only what
        was committed)."""
        code = tap.process.wait()
        if code == 0 or self.report.interrupted_by is not None:
            return
        self.out.line(f"[rest-connector] {tap.label} failed (exit {code}): stopping the "
                      f"outputs before the end of their input; no overwrite is committed")
        for target in targets:
            target.stopped_for_tap_failure = True
            target.signal(signal.SIGTERM)

    def _show_progress(self, started: float) -> None:
        """Each stream's records, pages and rate: redrawn in place on a terminal, else a
        line of its own every ``LOG_INTERVAL`` seconds."""
        interval = TERMINAL_INTERVAL if self.out.progress else LOG_INTERVAL
        while not self.finished.wait(interval):
            text = progress_text(self.report.records, self.report.pages_by_stream,
                                 time.monotonic() - started)
            if self.out.progress:
                self.out.show(f"  {text}")
            else:
                self.out.line(f"[rest-connector] progress: {text}")

    def _acknowledged_state(self, targets: list[_Child]) -> Any:
        states = [target.last_state for target in targets]
        if any(state is None for state in states):
            return None
        order = {state: index for index, state in enumerate(self.tap_states)}
        return min(states, key=lambda s: order.get(json.dumps(s, sort_keys=True), -1))

    def _save_state(self, state: Any) -> None:
        save_state(self.state_path, state)
        self.report.state_saved = True

    @contextmanager
    def _forwarding_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def forward(signum: int, _frame: object) -> None:
            if self.report.interrupted_by is None:
                self.report.interrupted_by = signum
                self.out.line(f"[rest-connector] {signal.Signals(signum).name}: stopping "
                              f"{len(self.children)} processes")
            for child in self.children:
                child.signal(signum)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def execute(self) -> RunReport:
        """Run tap and targets to the end; save the acknowledged STATE; return the report."""
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="rest-connector-") as workdir, \
                self._forwarding_signals():
            directory = Path(workdir)
            tap_settings, target_settings = with_batch_files(self.pipeline, directory / "batches")
            tap_argv = [executable(tap_settings.executable),
                        "--config", str(write_config(tap_settings, directory))]
            if self.state_path.exists():
                tap_argv += ["--state", str(self.state_path)]
            targets = [
                _Child(target.name, [executable(target.executable), "--config",
                                     str(write_config(target, directory))], subprocess.PIPE,
                       self.log_level)
                for target in target_settings
            ]
            tap = _Child(self.pipeline.tap.executable, tap_argv, None, self.log_level)
            self.children = [tap, *targets]
            if self.report.interrupted_by:  # a signal that arrived while they were starting
                for child in self.children:
                    child.signal(self.report.interrupted_by)
            pumps = [_thread(self._pump_stderr, child, child is tap) for child in self.children]
            pumps += [_thread(self._pump_target_stdout, target) for target in targets]
            progress = _thread(self._show_progress, started)
            self._fan_out(tap, targets)
            for child in self.children:
                child.process.wait()
            for pump in pumps:
                pump.join()
            self.finished.set()
            progress.join()
            self.out.clear()
        self.report.processes = [
            ProcessResult(c.label, c.process.returncode, c.stopped_for_tap_failure)
            for c in self.children
        ]
        self.report.seconds = time.monotonic() - started
        state = self._acknowledged_state(targets)
        if state is not None:
            self._save_state(state)
        return self.report


def with_batch_files(pipeline: Pipeline, directory: Path,
                     ) -> tuple[PluginSettings, tuple[PluginSettings, ...]]:
    """Tap and target settings for this run: when every output is a Delta table and no
    stream map changes records, the tap hands records over as Parquet files of their exact
    Arrow types (Singer BATCH messages in ``directory``, which the run removes), so nothing
    is serialized, piped and parsed row by row. A single output deletes each file once it is
    committed, keeping the disk flat."""
    tap, targets = pipeline.tap, pipeline.targets
    if "stream_maps" in tap.settings or not all(
        target.executable == OUTPUT_FORMATS["delta"] for target in targets
    ):
        return tap, targets
    batch_config = {"encoding": {"format": "parquet"},
                    "storage": {"root": directory.as_uri()}, "batch_size": BATCH_FILE_ROWS}
    tap = replace(tap, settings={**tap.settings, "batch_config": batch_config})
    if len(targets) == 1:
        targets = (replace(targets[0], settings={**targets[0].settings,
                                                 "delete_batch_files": True}),)
    return tap, targets


def _rows_in_file(uri: str) -> int:
    import pyarrow.parquet as pq  # only runs with batch files: no pyarrow start-up otherwise

    path = local_path(uri)
    return pq.read_metadata(path).num_rows if path is not None and path.exists() else 0


def save_state(path: Path, state: Any) -> None:
    """Replace the state file in one step (private: bookmarks may hold customer data); the
    Spark engine saves its state the same way."""
    temporary = path.with_name(path.name + ".tmp")
    write_private_text(temporary, json.dumps(state, indent=2) + "\n")
    os.replace(temporary, path)


def state_path_for(pipeline_path: Path) -> Path:
    """``<pipeline>.state.json`` next to the pipeline file."""
    return pipeline_path.with_name(f"{pipeline_path.stem}.state.json")


def run_pipeline(pipeline: Pipeline, state_path: Path | None = None,
                 output: IO[str] | None = None, progress: bool | None = None,
                 verbose: bool = False, log_level: str | None = None) -> RunReport:
    """Run ``pipeline``; logs and progress go to ``output`` (stderr by default).

    The plugins' METRIC log lines are shown only when ``verbose``; ``log_level`` is the
    plugins' (``debug`` also shows their tracebacks and start-up lines; None: the
    environment's ``LOGLEVEL``, else info).
    """
    stream = output or sys.stderr
    show_progress = stream.isatty() if progress is None else progress
    return PipelineRun(pipeline, state_path or state_path_for(pipeline.source), stream,
                       show_progress, verbose, log_level).execute()


def summary(report: RunReport) -> str:
    """A few lines a person reads at the end of a run."""
    rate = report.total_records / report.seconds if report.seconds else 0.0
    lines = [f"{'Run interrupted' if report.interrupted_by else 'Run finished'} in "
             f"{report.seconds:.1f} s: {report.total_records:,} records, {report.pages:,} pages, "
             f"{rate:,.0f} records/s"]
    lines += [f"  stream {name}: {report.records[name]:,} records, "
              f"{report.pages_by_stream[name]:,} pages"
              for name in sorted(set(report.records) | set(report.pages_by_stream))]
    lines += [f"  {p.label}: {_outcome(p)}" for p in report.processes]
    if report.state_saved:
        lines.append(f"  state saved to {report.state_path}")
    else:
        lines.append("  state not saved (no STATE acknowledged by every output)")
    return "\n".join(lines)


def _outcome(process: ProcessResult) -> str:
    if process.stopped_for_tap_failure:
        return (f"STOPPED, the tap failed (exit {process.returncode}): no overwrite committed, "
                f"STATE only for what was committed")
    return "ok" if process.returncode == 0 else f"FAILED (exit {process.returncode})"
