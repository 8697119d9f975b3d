"""Benchmark: the main job, REST → Delta, against the plain scripts a user would write instead.

A local API (its own process, ``bench/tap.py``'s server) serves N records with offset pagination.
Each side is a whole process run (start-up included), run alternately ``--repeat`` times; the
figures are medians. Rows:

1. ``rest-connector run`` of a REST input into a Delta output (overwrite), vs the plain script:
   requests + json, every row into one pyarrow Table, one ``write_deltalake``;
2. ``tap-rest-api | target-delta`` with default settings (RECORD messages), vs the same script;
3. ``meltano run tap-rest-api target-delta`` (only with ``--meltano``: needs ``.venv-meltano``,
   which the test suite installs);
4. ``tap-rest-api`` alone vs a plain requests + json loop printing one JSON line per record.

    .venv/bin/python bench/main_job.py [--records 100000] [--page-size 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tap import start_server

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
QUIET_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
"""As a user runs them: Python's own output buffering on, for our processes and the plain
scripts alike."""

PLAIN_TO_DELTA = """
import sys
import pyarrow as pa
import requests
from deltalake import write_deltalake

url, page_size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
session, rows, offset = requests.Session(), [], 0
while True:
    page = session.get(url, params={"offset": offset, "limit": page_size}).json()["data"]
    rows.extend(page)
    offset += len(page)
    if len(page) < page_size:
        break
write_deltalake(path, pa.Table.from_pylist(rows), mode="overwrite")
"""

PLAIN_LOOP = """
import json, sys
import requests

url, page_size = sys.argv[1], int(sys.argv[2])
session, offset = requests.Session(), 0
out = sys.stdout
while True:
    page = session.get(url, params={"offset": offset, "limit": page_size}).json()["data"]
    for record in page:
        out.write(json.dumps(record) + "\\n")
    offset += len(page)
    if len(page) < page_size:
        break
"""

PIPELINE = """
MODEL: bench
VERSION: "1"
CONFIG:
  inputs:
    customers:
      format: rest_api
      url: "{url}"
      pagination: {{type: offset, page_size: {page_size}}}
      response: {{root_key: data}}
  outputs:
    customers_delta:
      format: delta
      path: "{path}"
      mode: overwrite
"""


def measure(command: list[str] | str, **kwargs: object) -> tuple[float, int]:
    """Wall seconds and the peak RSS (MiB) of the largest process of one run, which must
    succeed. A shell pipeline's processes are children of the shell: their peak is what
    ``RUSAGE_CHILDREN`` of the wrapper reports."""
    wrapper = ("import resource, subprocess, sys\n"
               "code = subprocess.run(sys.argv[1:] if len(sys.argv) > 2 else sys.argv[1],"
               " shell=len(sys.argv) == 2, stdout=subprocess.DEVNULL).returncode\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.exit(code)\n")
    args = [command] if isinstance(command, str) else command
    kwargs.setdefault("env", QUIET_ENV)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True,
                          text=True, check=False, **kwargs)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {command}\n{done.stderr[-3000:]}")
    return elapsed, int(done.stdout.split()[-1]) // 1024


def alternate(sides: dict[str, Callable[[], tuple[float, int]]],
              repeat: int) -> dict[str, tuple[float, int]]:
    """Median seconds and highest peak RSS of each side, run alternately."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, run in sides.items():
            runs[name].append(run())
    return {name: (statistics.median(s for s, _ in results), max(r for _, r in results))
            for name, results in runs.items()}


def row(label: str, records: int, ours: tuple[float, int], plain: tuple[float, int]) -> dict:
    result = {"what": label, "records": records,
              "ours_records_per_s": round(records / ours[0]),
              "plain_records_per_s": round(records / plain[0]),
              "ratio": round(plain[0] / ours[0], 2),
              "ours_peak_rss_mib": ours[1], "plain_peak_rss_mib": plain[1]}
    print(f"  {label:<44} {result['ours_records_per_s']:>8,} rec/s vs plain "
          f"{result['plain_records_per_s']:>8,} rec/s  {result['ratio']:.2f}x  "
          f"peak RSS {ours[1]} MiB (plain {plain[1]})", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--meltano", action="store_true", help="also time meltano run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-main-job-"))
    server, url = start_server(args.records)
    try:
        results = run_all(args, url, work)
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "main_job.json").write_text(json.dumps(results, indent=2))


def run_all(args: argparse.Namespace, url: str, work: Path) -> list[dict]:
    n, size = args.records, str(args.page_size)
    plain_delta, plain_loop = work / "plain_delta.py", work / "plain_loop.py"
    plain_delta.write_text(PLAIN_TO_DELTA)
    plain_loop.write_text(PLAIN_LOOP)
    tap_config = work / "tap.json"
    tap_config.write_text(json.dumps({"streams": [{
        "name": "customers", "url": url, "response": {"root_key": "data"},
        "pagination": {"type": "offset", "page_size": args.page_size}}]}))
    delta_config = work / "delta.json"
    delta_config.write_text(json.dumps({"path": str(work / "piped"), "mode": "overwrite"}))
    pipeline = work / "pipeline.yml"
    pipeline.write_text(PIPELINE.format(url=url, page_size=size, path=work / "run"))

    def plain_to_delta() -> tuple[float, int]:
        return measure([sys.executable, str(plain_delta), url, size, str(work / "plain")])

    def run() -> tuple[float, int]:
        (work / "pipeline.state.json").unlink(missing_ok=True)
        return measure([str(BIN / "rest-connector"), "run", str(pipeline)])

    def pipe() -> tuple[float, int]:
        return measure(f"{BIN / 'tap-rest-api'} --config {tap_config} 2>/dev/null | "
                       f"{BIN / 'target-delta'} --config {delta_config} 2>/dev/null")

    print(f"REST → Delta, {n:,} records in pages of {size} (medians of {args.repeat})")
    timed = alternate({"plain": plain_to_delta, "run": run, "pipe": pipe}, args.repeat)
    results = [row("rest-connector run", n, timed["run"], timed["plain"]),
               row("tap-rest-api | target-delta (RECORD)", n, timed["pipe"], timed["plain"])]
    if args.meltano:
        results.append(row("meltano run tap-rest-api target-delta", n,
                           meltano_run(url, args.page_size, work, args.repeat), timed["plain"]))

    def tap_alone() -> tuple[float, int]:
        return measure([str(BIN / "tap-rest-api"), "--config", str(tap_config)])

    def loop() -> tuple[float, int]:
        return measure([sys.executable, str(plain_loop), url, size])

    timed = alternate({"plain": loop, "tap": tap_alone}, args.repeat)
    results.append(row("tap-rest-api alone (RECORD to /dev/null)", n, timed["tap"],
                       timed["plain"]))
    return results


def meltano_run(url: str, page_size: int, work: Path, repeat: int) -> tuple[float, int]:
    """``meltano run`` in a copy of the repository's project, the stream pointed at ``url``."""
    import yaml

    meltano = ROOT / ".venv-meltano" / "bin" / "meltano"
    if not meltano.exists():
        raise SystemExit("--meltano needs .venv-meltano (make test installs it)")
    project = work / "meltano"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "rest_api_core", "rest_connector", "tap_rest_api",
                 "target_rest_api", "target_delta"):
        (project / name).symlink_to(ROOT / name)
    settings = yaml.safe_load((ROOT / "meltano.yml").read_text())
    extractor = settings["plugins"]["extractors"][0]
    extractor["config"] = {"streams": [{
        "name": "customers", "url": url, "response": {"root_key": "data"},
        "pagination": {"type": "offset", "page_size": page_size}}], **{
        k: v for k, v in extractor["config"].items() if k == "batch_config"}}
    loader = next(p for p in settings["plugins"]["loaders"] if p["name"] == "target-delta")
    loader["config"] = {**loader["config"], "path": str(work / "meltano-out"),
                        "mode": "overwrite"}
    (project / "meltano.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    env = {k: v for k, v in QUIET_ENV.items() if k != "VIRTUAL_ENV"}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    subprocess.run([str(meltano), "install"], cwd=project, env=env, check=True,
                   capture_output=True)
    command = [str(meltano), "run", "--no-state-update", "tap-rest-api", "target-delta"]
    runs = [measure(command, cwd=project, env=env) for _ in range(repeat)]
    return statistics.median(s for s, _ in runs), max(r for _, r in runs)


if __name__ == "__main__":
    main()
