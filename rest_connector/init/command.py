"""The ``init`` subcommand: write the file, check it as ``validate`` would, say what was done."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rest_api_core.errors import ConnectorError
from rest_connector.init import DEFAULT_DELTA_PATH

if TYPE_CHECKING:
    from rest_connector.init.draft import InitResult

_SKIPPED_SHOWN = 30
CHECKED_INPUTS = 200
"""Up to this many inputs, the written file is checked as ``validate`` checks it (a second or
two); a larger file takes ``validate`` minutes (its YAML loader reads line by line in
Python), so it is left to the user, with --paths/--tags suggested."""
_CHECK_VALUE = "set-by-init-check"


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rest-connector init``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--openapi", metavar="SPEC",
                        help="OpenAPI 3.0/3.1 or Swagger 2.0 document (file or URL, JSON or YAML)")
    source.add_argument("--url", metavar="URL",
                        help="one sample endpoint of an API without a spec (up to two requests)")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="with --url: a request header (repeatable); its value is never "
                             "written or printed, the file reads it from the environment")
    parser.add_argument("--paths", nargs="+", default=[], metavar="GLOB",
                        help="with --openapi: only these paths (globs: '/v1/customers*')")
    parser.add_argument("--tags", nargs="+", default=[], metavar="TAG",
                        help="with --openapi: only operations with one of these tags")
    parser.add_argument("--base-url", metavar="URL",
                        help="with --openapi: the API's base URL (default: the first server)")
    parser.add_argument("--output", "-o", type=Path, default=Path("pipeline.yml"),
                        metavar="FILE", help="where to write the pipeline (default pipeline.yml)")
    parser.add_argument("--delta-path", default=DEFAULT_DELTA_PATH, metavar="PATH",
                        help="the Delta output's path; {stream} is each input's name "
                             f"(default {DEFAULT_DELTA_PATH})")
    parser.add_argument("--force", action="store_true", help="overwrite an existing FILE")


def _check_written(path: Path, env_names: list[str]) -> None:
    """Fail when the file would not pass ``validate`` with its variables set: a bug of init."""
    from rest_connector.pipeline.problems import PipelineError
    from rest_connector.pipeline.translate import translate

    env = {**os.environ, **{name: _CHECK_VALUE for name in env_names}}
    for name in env_names:
        if name.endswith("_BASE_URL") and name not in os.environ:
            env[name] = "https://api.example.com"
    try:
        translate(path, env=env)
    except PipelineError as error:
        raise ConnectorError(f"bug: the written {path} does not validate; please report it "
                             f"with the spec:\n{error}") from None


def _report(result: InitResult, output: Path) -> str:
    lines = [f"Wrote {output}: {len(result.taken)} inputs ({', '.join(result.taken[:20])}"
             f"{', ...' if len(result.taken) > 20 else ''})"]
    if result.filtered_out:
        lines.append(f"{result.filtered_out} GET operations left out by --paths/--tags")
    if result.skipped:
        reasons = Counter(s.kind for s in result.skipped)
        lines.append(f"Skipped {len(result.skipped)} GET operations: "
                     + "; ".join(f"{n} {r}" for r, n in reasons.most_common()))
        lines.extend(f"  skipped {s.path}: {s.reason}" for s in result.skipped[:_SKIPPED_SHOWN])
        if len(result.skipped) > _SKIPPED_SHOWN:
            lines.append(f"  ... and {len(result.skipped) - _SKIPPED_SHOWN} more")
    if len(result.taken) > CHECKED_INPUTS:
        lines.append(f"Not checked: {len(result.taken)} inputs make a file `validate` takes "
                     f"minutes over; choose the endpoints you need with --paths or --tags")
    if result.todos:
        lines.append(f"{result.todos} TODO comments in {output} need a decision")
    lines.append("Set these environment variables, then run "
                 f"`rest-connector validate {output}` and `rest-connector run {output}`:")
    lines.extend(f"  export {name}=..." for name in result.env)
    return "\n".join(lines)


def _write(result: InitResult, output: Path, force: bool) -> None:
    if output.exists() and not force:
        raise ConnectorError(f"{output} exists: choose another --output, or --force")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=output.parent, suffix=".yml", delete=False,
                                     encoding="utf-8") as draft:
        draft.write(result.text)
    try:
        if len(result.taken) <= CHECKED_INPUTS:
            _check_written(Path(draft.name), result.env)
    except ConnectorError:
        Path(draft.name).unlink()
        raise
    os.replace(draft.name, output)


def run_init(args: argparse.Namespace) -> int:
    """``rest-connector init``: write the pipeline and print what the user does next."""
    if args.url:
        from rest_connector.init.sample import init_from_url

        for option, value in (("--paths", args.paths), ("--tags", args.tags),
                              ("--base-url", args.base_url)):
            if value:
                raise ConnectorError(f"{option}: only with --openapi")
        result = init_from_url(args.url, args.header, delta_path=args.delta_path)
    else:
        from rest_connector.init.openapi import NoListEndpoints, init_from_openapi

        if args.header:
            raise ConnectorError("--header: only with --url")
        try:
            result = init_from_openapi(args.openapi, paths=args.paths, tags=args.tags,
                                       base_url=args.base_url, delta_path=args.delta_path)
        except NoListEndpoints as error:
            for skipped in error.selection.skipped[:_SKIPPED_SHOWN]:
                print(f"  skipped {skipped.path}: {skipped.reason}")
            raise
    _write(result, args.output, args.force)
    print(_report(result, args.output))
    return 0
