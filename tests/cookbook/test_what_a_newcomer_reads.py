"""What a person reads when a run goes wrong, and while it runs: the real CLI against local
servers, lines counted."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time
from pathlib import Path

from werkzeug import Request, Response

from tests.conftest import BIN, CANARY_TOKEN, assert_no_canary
from tests.cookbook import dev_apis
from tests.cookbook.test_examples import COOKBOOK, EXAMPLES

SLOW_PAGES = 12
PAGE_SECONDS = 0.5


def _github_without_empty_on(tmp_path: Path) -> Path:
    """The GitHub example as a newcomer might have written it: a 410 fails the run."""
    text = (EXAMPLES / "github_issues.yml").read_text()
    path = tmp_path / "github.yml"
    path.write_text(text.replace("        empty_on: [404, 410]\n", "        empty_on: []\n"))
    return path


def _run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(BIN / "rest-connector"), "run", *args], capture_output=True,
                            text=True, env={**os.environ, **env}, timeout=300, check=False,
                            **kwargs)
    assert_no_canary(result.stdout, result.stderr)
    return result


def _github_env(httpserver, tmp_path: Path) -> dict[str, str]:
    example = COOKBOOK["github_issues.yml"]
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(re.compile(".*")).respond_with_handler(dev_apis.github(base))
    return {**example.env, example.base_env: base, "OUTPUT_DIR": str(tmp_path)}


def test_a_failing_child_request_is_one_line_with_the_setting_that_helps(tmp_path, httpserver):
    env = _github_env(httpserver, tmp_path)
    result = _run([str(_github_without_empty_on(tmp_path))], env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    failures = [line for line in lines if "ERROR" in line]
    assert len(failures) == 1, failures
    assert ("stream 'issues': HTTP 410 GONE for GET /repos/acme/docs/issues: "
            '{"message": "Issues are disabled for this repo"') in failures[0]
    assert failures[0].endswith("set response.empty_on: [404, 410] on 'issues'")
    assert "Traceback" not in result.stderr
    assert sum("Beginning sync of 'issues'" in line for line in lines) == 1
    assert sum("Stream is assumed to be unsorted" in line for line in lines) <= 1
    assert not [line for line in lines if "Skipping parse of env var settings" in line]
    assert len(lines) <= 12, result.stderr
    assert "tap-rest-api: FAILED (exit 1)" in result.stdout


def test_at_debug_the_repeats_and_the_traceback_are_shown(tmp_path, httpserver):
    env = _github_env(httpserver, tmp_path)
    result = _run([str(_github_without_empty_on(tmp_path)), "--log-level", "debug"], env)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.count("Beginning sync of 'issues'") == len(dev_apis.GITHUB_REPOS)
    assert "Skipping parse of env var settings" in result.stderr


def _slow_items(request: Request) -> Response:
    """A page every PAGE_SECONDS, SLOW_PAGES of them, with a next link."""
    page = int(request.args.get("page", 0))
    time.sleep(PAGE_SECONDS)
    following = page + 1 if page + 1 < SLOW_PAGES else None
    body = {"results": [{"id": page * 10 + n} for n in range(10)],
            "next": f"{request.base_url}?page={following}" if following is not None else None}
    return Response(json.dumps(body), content_type="application/json")


def _slow_pipeline(tmp_path: Path, httpserver, pages: int = SLOW_PAGES) -> Path:
    httpserver.expect_request("/items").respond_with_handler(_slow_items)
    path = tmp_path / "slow.yml"
    path.write_text(f"""
CONFIG:
  inputs:
    items:
      format: rest_api
      url: "{httpserver.url_for('/items')}"
      auth: {{type: bearer, token: "{{{{ env.TOKEN }}}}"}}
      pagination: {{type: next_link, link_field: next, max_pages: {pages}}}
      response: {{root_key: results}}
  outputs:
    lake: {{format: delta, path: "{tmp_path}/lake/{{stream}}"}}
""")
    return path


def test_in_a_log_progress_comes_at_most_every_few_seconds(tmp_path, httpserver):
    started = time.monotonic()
    result = _run([str(_slow_pipeline(tmp_path, httpserver))], {"TOKEN": CANARY_TOKEN})
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if "progress:" in line]
    assert 1 <= len(progress) <= elapsed / 5 + 1, progress
    assert re.search(r"\[rest-connector\] progress: items: [\d,]+ records, [\d,]+ pages, "
                     r"[\d,]+ records/s · \d+ s", progress[0])
    assert "\r" not in result.stderr
    assert f"stream items: {SLOW_PAGES * 10} records, {SLOW_PAGES} pages" in result.stdout


def test_on_a_terminal_progress_is_redrawn_in_place(tmp_path, httpserver):
    pipeline = _slow_pipeline(tmp_path, httpserver, pages=4)
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = subprocess.run([str(BIN / "rest-connector"), "run", str(pipeline)],
                            stdout=subprocess.PIPE, stderr=follower, timeout=300, check=False,
                            env={**os.environ, "TOKEN": CANARY_TOKEN})
    os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    shown = b"".join(chunks).decode(errors="replace")
    assert_no_canary(shown, result.stdout)
    assert result.returncode == 0
    assert "\r\x1b[K  items: " in shown
    assert "progress:" not in shown


def test_a_warning_per_parent_is_shown_once_with_a_count(tmp_path, httpserver):
    httpserver.expect_request("/parents").respond_with_json([{"id": n} for n in range(1, 5)])
    for n in range(1, 5):
        httpserver.expect_request(f"/parents/{n}/children").respond_with_json({"other": []})
    path = tmp_path / "children.yml"
    path.write_text(f"""
CONFIG:
  inputs:
    parents:
      format: rest_api
      url: "{httpserver.url_for('/parents')}"
    children:
      format: rest_api
      parent: parents
      url: "{httpserver.url_for('/parents')}/{{parent.id}}/children"
      response: {{root_key: data}}
  outputs:
    lake: {{format: delta, path: "{tmp_path}/lake/{{stream}}"}}
""")
    debug = _run([str(path), "--log-level", "debug"], {})
    every = [line for line in debug.stderr.splitlines() if "root_key 'data'" in line]
    assert len(every) >= 4  # once per parent (and once more if inference read a page)
    result = _run([str(path)], {})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "root_key 'data'" in line]
    assert len(warnings) == 2, warnings  # the first, then the count at the end
    assert f"(and {len(every) - 1} more times like it, per parent record or page" in warnings[1]
    assert sum("Beginning sync of 'children'" in line
               for line in result.stderr.splitlines()) == 1
