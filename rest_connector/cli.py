"""``rest-connector``: write, validate, translate and run pipeline files; serve the sandbox;
the demo."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rest_api_core.errors import ConnectorError
from rest_api_core.extras import require_extra
from rest_api_core.redact import SECRETS, install_log_redaction
from rest_api_core.startup import freeze_imported_objects

if TYPE_CHECKING:
    from rest_connector.pipeline.translate import Pipeline

_VARIABLE_NAME = re.compile(r"^[A-Za-z_]\w*$")
EXAMPLE_PIPELINE = Path(__file__).resolve().parent.parent / "examples" / "customer_sync.yml"
DEMO_ROWS = 5


def _variable(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not _VARIABLE_NAME.match(name) or name == "env":
        msg = f"expected NAME=VALUE with a name other than 'env', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return name, value


def _parser() -> argparse.ArgumentParser:
    from rest_connector.init.command import add_init_arguments
    from rest_connector.progress import LOG_LEVELS
    from rest_connector.sandbox import DEFAULT_CUSTOMERS, DEFAULT_PORT, DEFAULT_TOKEN

    parser = argparse.ArgumentParser(prog="rest-connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init_help = "write a first pipeline from an OpenAPI document or a sample URL"
    add_init_arguments(commands.add_parser("init", help=init_help, description=init_help))

    def pipeline_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("pipeline", type=Path, metavar="PIPELINE.yml")
        command.add_argument("--var", type=_variable, action="append", default=[],
                             metavar="NAME=VALUE",
                             help="template variable (repeatable); an empty value counts as unset")
        return command

    pipeline_command("validate", "check a pipeline file and report every problem")
    translate = pipeline_command("translate", "write Singer configs and a meltano.yml fragment")
    translate.add_argument("--out", type=Path, required=True, metavar="DIR")
    run = pipeline_command("run", "run the tap and one target per output, joined by pipes")
    run.add_argument("--state", type=Path, metavar="FILE",
                     help="state file (default: <pipeline>.state.json next to the pipeline)")
    run.add_argument("--verbose", action="store_true", help="also show the plugins' METRIC logs")
    run.add_argument("--log-level", choices=LOG_LEVELS,
                     help="the plugins' log level (default: $LOGLEVEL, else info; debug adds "
                          "per-parent lines, start-up lines and the traceback of a failure)")
    run.add_argument("--engine", choices=("singer", "spark"), default="singer",
                     help="singer: tap and targets joined by pipes (default); spark: the "
                          "rest_api data source on Spark (needs the 'spark' extra)")
    run.add_argument("--master", metavar="URL",
                     help="Spark master for --engine spark (default local[*])")
    maintain = pipeline_command("maintain", "compact and vacuum the Delta outputs' tables now")
    maintain.add_argument("--output", metavar="NAME", help="only this output")
    sandbox = commands.add_parser("sandbox", help="serve the sandbox API on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=DEFAULT_PORT)
    sandbox.add_argument("--token", default=os.environ.get("CRM_TOKEN", DEFAULT_TOKEN),
                         help="bearer token to accept (default: $CRM_TOKEN or sandbox-token)")
    sandbox.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    demo = commands.add_parser("demo", help="run the example pipeline against the sandbox")
    demo.add_argument("--output", type=Path, default=Path("output"), metavar="DIR",
                      help="where the Delta table goes (default ./output)")
    return parser


def _init(args: argparse.Namespace) -> int:
    from rest_connector.init.command import run_init

    return run_init(args)


def _validate(args: argparse.Namespace) -> int:
    from rest_connector.pipeline.translate import translate

    pipeline = translate(args.pipeline, variables=dict(args.var))
    outputs = ", ".join(f"{t.name} ({t.executable})" for t in pipeline.targets)
    inputs = ", ".join(stream["name"] for stream in pipeline.tap.settings["streams"])
    print(f"{args.pipeline}: OK — inputs: {inputs}; outputs: {outputs}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    from rest_connector.pipeline.output import write_translation
    from rest_connector.pipeline.translate import translate

    pipeline = translate(args.pipeline, variables=dict(args.var))
    for path in write_translation(pipeline, args.out):
        print(path)
    return 0


def _run(args: argparse.Namespace) -> int:
    from rest_connector.pipeline.translate import translate
    from rest_connector.runner import run_pipeline, state_path_for, summary

    if args.master and args.engine != "spark":
        raise ConnectorError("--master: only with --engine spark")
    pipeline = translate(args.pipeline, variables=dict(args.var))
    if args.engine == "spark":
        return _run_on_spark(pipeline, args.master,
                             args.state or state_path_for(pipeline.source))
    freeze_imported_objects()  # from here this process mostly waits for the plugins
    report = run_pipeline(pipeline, args.state, verbose=args.verbose, log_level=args.log_level)
    print(summary(report))
    return report.exit_code


def _run_on_spark(pipeline: Pipeline, master: str | None, state_path: Path) -> int:
    """Run on Spark, incremental inputs continuing from the pipeline's state file."""
    try:
        from rest_connector.spark_engine import DEFAULT_MASTER, run_on_spark
        from rest_connector.spark_state import SparkState
    except ImportError as error:
        raise ConnectorError(f"--engine spark needs PySpark 4: pip install "
                             f"'rest-api-connector[spark]' ({error})") from None
    state = SparkState(state_path)
    runs = run_on_spark(pipeline, state, master or DEFAULT_MASTER)
    for run in runs:
        print(run)
    failed = sum(1 for run in runs if run.error)
    print(f"Run finished on Spark: {len(runs) - failed} of {len(runs)} outputs written")
    if state.save():
        print(f"  state saved to {state_path}")
    return 1 if failed else 0


def _maintain(args: argparse.Namespace) -> int:
    from rest_connector.maintain import maintain
    from rest_connector.pipeline.translate import translate

    return maintain(translate(args.pipeline, variables=dict(args.var)), args.output)


def _sandbox(args: argparse.Namespace) -> int:
    from rest_connector.sandbox import CUSTOMERS_PATH, SandboxServer

    server = SandboxServer(port=args.port, token=args.token, customers=args.customers)
    print(f"Sandbox API on {server.url}{CUSTOMERS_PATH} (bearer token from --token/$CRM_TOKEN); "
          f"Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _print_rows(table_path: Path) -> None:
    from deltalake import DeltaTable

    table = DeltaTable(str(table_path))
    data = table.to_pyarrow_table()
    print(f"\nDelta table {table_path} (version {table.version()}): {data.num_rows:,} rows; "
          f"first {min(DEMO_ROWS, data.num_rows)}:")
    rows = data.slice(0, DEMO_ROWS).to_pylist()
    columns = data.column_names
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)))


def _demo(args: argparse.Namespace) -> int:
    from rest_connector.pipeline.translate import translate
    from rest_connector.runner import run_pipeline, summary
    from rest_connector.sandbox import SandboxServer

    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    with SandboxServer() as server:
        print(f"Sandbox API started on {server.url}", flush=True)
        env = {**os.environ, "CRM_API_URL": server.url, "CRM_TOKEN": server.token,
               "OUTPUT_DIR": str(output)}
        pipeline = translate(EXAMPLE_PIPELINE, env=env)
        report = run_pipeline(pipeline, output / "customer_sync.state.json")
    print(summary(report))
    if report.exit_code == 0:
        _print_rows(Path(pipeline.targets[0].settings["path"]))
    return report.exit_code


COMMANDS = {"init": _init, "validate": _validate, "translate": _translate, "run": _run,
            "sandbox": _sandbox, "demo": _demo, "maintain": _maintain}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rest-connector`` console script."""
    install_log_redaction()
    args = _parser().parse_args(argv)
    try:
        if args.command != "sandbox":
            needed = ("jinja2", "referencing") if args.command == "init" else ("jinja2",)
            require_extra("pipeline", needed, f"rest-connector {args.command}")
        if args.command in ("demo", "maintain"):
            require_extra("delta", ("deltalake", "pyarrow"), f"rest-connector {args.command}")
        return COMMANDS[args.command](args)
    except ConnectorError as error:
        print(SECRETS.redact(str(error)), file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
