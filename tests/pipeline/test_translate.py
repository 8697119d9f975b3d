"""Translation: settings for each plugin, and every validation error class with its message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rest_connector.pipeline.problems import PipelineError
from rest_connector.pipeline.translate import translate
from tests.conftest import CANARY_TOKEN, assert_no_canary
from tests.pipeline.conftest import CRM_INPUT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = CRM_INPUT + """\
      pagination:
        type: next_link
        link_field: next
      response:
        root_key: results
  transform:
    type: noop
  outputs:
    customers_delta:
      format: delta
      path: /tmp/out/customers
      mode: overwrite
    predictions_api:
      format: rest_api
      url: "{{ env.CRM_API_URL }}/api/v2/predictions"
      auth:
        type: bearer
        token: "{{ env.CRM_TOKEN }}"
      batch_size: 100
"""
ENV = {"CRM_API_URL": "http://127.0.0.1:9", "CRM_TOKEN": CANARY_TOKEN}


def problems(write_pipeline, text: str, env=None) -> list[str]:
    with pytest.raises(PipelineError) as raised:
        translate(write_pipeline(text), env=ENV if env is None else env)
    assert_no_canary(str(raised.value))
    return [str(problem) for problem in raised.value.problems]


def test_inputs_become_tap_streams_and_outputs_target_settings(write_pipeline):
    pipeline = translate(write_pipeline(GOOD), env=ENV, variables={"dt": "2025-02-03"})
    [stream] = pipeline.tap.settings["streams"]
    assert stream == {
        "name": "crm_customers", "url": "http://127.0.0.1:9/api/v2/customers",
        "params": {"since": "2025-02-03"}, "auth": {"type": "bearer", "token": CANARY_TOKEN},
        "pagination": {"type": "next_link", "link_field": "next"},
        "response": {"root_key": "results"},
    }
    assert [(t.executable, t.name) for t in pipeline.targets] == [
        ("target-delta", "customers_delta"), ("target-rest-api", "predictions_api")]
    assert pipeline.targets[0].settings == {"path": "/tmp/out/customers", "mode": "overwrite"}
    assert pipeline.targets[1].settings["batch_size"] == 100


def test_stream_maps_transform_goes_to_the_sdk_stream_maps(write_pipeline):
    text = GOOD.replace("    type: noop", "    type: stream_maps\n    stream_maps:\n"
                                         "      crm_customers:\n        email: __NULL__")
    pipeline = translate(write_pipeline(text), env=ENV)
    assert pipeline.tap.settings["stream_maps"] == {"crm_customers": {"email": "__NULL__"}}


def test_enum_typo_names_yaml_path_line_and_suggestion(write_pipeline):
    text = GOOD.replace("type: next_link", "type: offest")
    assert problems(write_pipeline, text) == [
        "line 14: CONFIG.inputs.crm_customers.pagination.type: 'offest' is not one of offset, "
        "page, cursor, next_link, link_header — did you mean 'offset'?"]


def test_unknown_key_in_an_output_with_hint(write_pipeline):
    text = GOOD.replace("      batch_size: 100", "      batch_sise: 100")
    [problem] = problems(write_pipeline, text)
    assert problem.startswith("line 31: CONFIG.outputs.predictions_api.batch_sise: unknown "
                              "setting — did you mean 'batch_size'?")


def test_max_in_flight_of_a_rest_api_output_passes_through_and_is_checked(write_pipeline):
    text = GOOD.replace("      batch_size: 100", "      batch_size: 100\n      max_in_flight: 8")
    pipeline = translate(write_pipeline(text), env=ENV)
    assert pipeline.targets[1].settings["max_in_flight"] == 8
    [problem] = problems(write_pipeline, text.replace("max_in_flight: 8", "max_in_flight: 0"))
    assert problem.startswith("line 32: CONFIG.outputs.predictions_api.max_in_flight: 0 is "
                              "less than the minimum of 1")


def test_concurrency_of_an_input_passes_through_and_is_checked(write_pipeline):
    text = GOOD.replace("        root_key: results\n",
                        "        root_key: results\n      concurrency: 8\n")
    pipeline = translate(write_pipeline(text), env=ENV)
    assert pipeline.tap.settings["streams"][0]["concurrency"] == 8
    [problem] = problems(write_pipeline, text.replace("concurrency: 8", "concurrency: 0"))
    assert "CONFIG.inputs.crm_customers.concurrency: 0 is less than the minimum of 1" in problem
    assert problem.startswith("line ")


def test_several_inputs_with_concurrency_are_read_side_by_side_under_the_largest(
        write_pipeline):
    """The tap's run-wide cap (and streams side by side) comes from the inputs' values; an
    input that sets none keeps one request at a time."""
    second = """    crm_orders:
      format: rest_api
      url: "{{ env.CRM_API_URL }}/api/v2/orders"
      concurrency: 4
    crm_notes:
      format: rest_api
      url: "{{ env.CRM_API_URL }}/api/v2/notes"
"""
    text = GOOD.replace("  transform:\n", second + "  transform:\n").replace(
        "        root_key: results\n", "        root_key: results\n      concurrency: 6\n")
    settings = translate(write_pipeline(text), env=ENV).tap.settings
    assert settings["concurrency"] == 6
    assert [s["concurrency"] for s in settings["streams"]] == [6, 4, 1]
    alone = translate(write_pipeline(GOOD), env=ENV).tap.settings
    assert "concurrency" not in alone and "concurrency" not in alone["streams"][0]


def test_missing_required_setting(write_pipeline):
    text = GOOD.replace("      path: /tmp/out/customers\n", "")
    [problem] = problems(write_pipeline, text)
    assert problem.startswith("line 21: CONFIG.outputs.customers_delta.path: required setting")


def test_unsupported_format_and_transform_type_list_the_supported(write_pipeline):
    text = GOOD.replace("format: delta", "format: csv").replace("type: noop", "type: sql")
    assert problems(write_pipeline, text) == [
        "line 19: CONFIG.transform.type: 'sql' is not one of noop, stream_maps",
        "line 22: CONFIG.outputs.customers_delta.format: 'csv' is not one of rest_api, delta",
    ]


def test_yaml_11_values_where_strings_are_expected_suggest_quotes(write_pipeline):
    text = (GOOD.replace('VERSION: "1.0.0"', "VERSION: 1.0")
            .replace("        root_key: results", "        root_key: NO")
            .replace("since: \"{{ dt | default('2025-01-01') }}\"", "since: 2025-01-01")
            .replace('        token: "{{ env.CRM_TOKEN }}"\n      batch_size',
                     "        token: 012345\n      batch_size"))
    found = problems(write_pipeline, text)
    assert found[0] == ('line 2: VERSION: expected string, got number 1.0 — YAML reads the '
                        'unquoted 1.0 as a non-string; write "1.0" in quotes')
    found = problems(write_pipeline, text.replace("VERSION: 1.0", 'VERSION: "1"'))
    assert found == [
        'line 9: CONFIG.inputs.crm_customers.params.since: YAML reads the unquoted 2025-01-01 '
        'as a date, not a string: write "2025-01-01" in quotes',
        'line 17: CONFIG.inputs.crm_customers.response.root_key: YAML 1.1 reads the unquoted '
        'NO as the boolean false: write "NO" in quotes for the text, or false for a boolean '
        "(only true and false are read as booleans)",
        "line 30: CONFIG.outputs.predictions_api.auth.token: expected string, got integer '***' "
        "— YAML reads some unquoted values as non-strings; put this one in quotes",
    ]
    assert "012345" not in "\n".join(found)


def test_yaml_11_boolean_words_are_refused_wherever_they_stand(write_pipeline):
    text = GOOD.replace("        since: \"{{ dt | default('2025-01-01') }}\"",
                        "        since: \"{{ dt | default('2025-01-01') }}\"\n"
                        "        country: NO\n        active: true\n        region: N\n"
                        "      headers: {X-Debug: off}\n"
                        "      method: POST\n      body: {filters: [Yes, FALSE]}")
    found = problems(write_pipeline, text)
    hint = "for a boolean (only true and false are read as booleans)"
    assert found == [
        'line 10: CONFIG.inputs.crm_customers.params.country: YAML 1.1 reads the unquoted NO '
        f'as the boolean false: write "NO" in quotes for the text, or false {hint}',
        'line 13: CONFIG.inputs.crm_customers.headers.X-Debug: YAML 1.1 reads the unquoted '
        f'off as the boolean false: write "off" in quotes for the text, or false {hint}',
        'line 15: CONFIG.inputs.crm_customers.body.filters[0]: YAML 1.1 reads the unquoted '
        f'Yes as the boolean true: write "Yes" in quotes for the text, or true {hint}',
    ]


def test_quoted_yaml_11_boolean_words_stay_text_and_true_false_stay_booleans(write_pipeline):
    text = GOOD.replace("        since: \"{{ dt | default('2025-01-01') }}\"",
                        "        country: 'NO'\n        active: TRUE\n        region: N")
    [stream] = translate(write_pipeline(text), env=ENV).tap.settings["streams"]
    assert stream["params"] == {"country": "NO", "active": True, "region": "N"}


def test_missing_env_var_is_reported_with_other_problems_never_an_empty_token(write_pipeline):
    text = GOOD.replace("mode: overwrite", "mode: overwrit")
    found = problems(write_pipeline, text, env={"CRM_API_URL": "http://h"})
    assert found[0] == ("line 12: CONFIG.inputs.crm_customers.auth.token: environment variable "
                        "CRM_TOKEN is not set (template uses env.CRM_TOKEN)")
    assert any("CONFIG.outputs.customers_delta.mode: 'overwrit' is not one of" in p
               for p in found)


def test_envelope_problems(write_pipeline):
    found = problems(write_pipeline, "MODEL: etl\nCONFIG:\n  inputs: {}\n  extra: 1\n")
    assert sorted(found) == [
        "line 2: CONFIG.outputs: required setting is missing",
        "line 3: CONFIG.inputs: {} should be non-empty",
        "line 4: CONFIG.extra: unknown setting "
        "(expected one of: inputs, transform, outputs)",
    ]


def test_translating_a_pipeline_does_not_import_the_plugins():
    """``rest-connector run`` checks a pipeline before starting the plugins: importing them
    (singer-sdk, pyarrow) there would add their start-up to every run."""
    import subprocess
    import sys

    code = ("import sys; from rest_connector.pipeline import translate; "
            "translate.plugin_schema('tap-rest-api'); "
            "print(sorted(m for m in ('singer_sdk', 'pyarrow', 'deltalake') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


PARENT_CHILD = """\
CONFIG:
  inputs:
    repos:
      format: rest_api
      url: "{{ env.API }}/orgs/acme/repos"
      schema:
        - {name: id, type: integer}
        - {name: name, type: string}
    issues:
      format: rest_api
      parent: repos
      url: "{{ env.API }}/repos/{parent.name}/issues"
      include_from_parent: [id]
      params:
        since: "{parent.id}"
  outputs:
    lake:
      format: delta
      path: /tmp/lake/{stream}
"""


def test_parent_placeholders_survive_jinja_and_reach_the_tap(write_pipeline):
    pipeline = translate(write_pipeline(PARENT_CHILD), env={"API": "http://h"})
    issues = pipeline.tap.settings["streams"][1]
    assert issues["url"] == "http://h/repos/{parent.name}/issues"
    assert (issues["parent"], issues["include_from_parent"]) == ("repos", ["id"])
    assert issues["params"] == {"since": "{parent.id}"}


def test_parent_child_mistakes_are_named_with_their_lines(write_pipeline):
    text = (PARENT_CHILD.replace("parent: repos", "parent: repo")
            .replace("        since: \"{parent.id}\"", "        since: \"{parent.}\""))
    assert problems(write_pipeline, text, env={"API": "http://h"}) == [
        "line 11: CONFIG.inputs.issues.parent: 'repo' is not a stream of this config — did you "
        "mean 'repos'?",
        "line 15: CONFIG.inputs.issues.params.since: {parent.} is not a placeholder: expected "
        "{parent.<dot path>}, such as {parent.id} or {parent.owner.login}",
    ]
    text = (PARENT_CHILD.replace("include_from_parent: [id]", "include_from_parent: [owner]")
            .replace('url: "{{ env.API }}/orgs/acme/repos"',
                     'url: "{{ env.API }}/x/{parent._issues_id}"\n      parent: issues'))
    assert problems(write_pipeline, text, env={"API": "http://h"}) == [
        "line 6: CONFIG.inputs.repos.parent: 'repos' → 'issues' → 'repos' is a cycle: a stream "
        "cannot be its own ancestor",
        "line 14: CONFIG.inputs.issues.include_from_parent[0]: 'owner': 'repos' declares no "
        "field 'owner'",
    ]


def test_the_parent_child_example_validates():
    pipeline = translate(EXAMPLES / "github_issues.yml",
                         env={"GITHUB_ORG": "acme", "GITHUB_TOKEN": CANARY_TOKEN})
    repos, issues = pipeline.tap.settings["streams"]
    assert repos["url"] == "https://api.github.com/orgs/acme/repos"
    assert issues["url"] == ("https://api.github.com/repos/{parent.owner.login}/{parent.name}"
                             "/issues")
    assert issues["parent"] == "repos"


def test_checking_parents_imports_no_plugin(write_pipeline):
    """The parent→child, response and auth checks come from the tap package and the core,
    which must stay light to import: no plugin, no HTTP stack (every run pays for it)."""
    path = write_pipeline(PARENT_CHILD)
    code = ("import sys; from rest_connector.pipeline.translate import translate; "
            f"translate({str(path)!r}, env={{'API': 'http://h'}}); "
            "assert 'tap_rest_api.parents' in sys.modules; "
            "assert 'tap_rest_api.report_settings' in sys.modules; "
            "print(sorted(set(sys.modules) & {'singer_sdk', 'pyarrow', 'deltalake', "
            "'requests', 'urllib3'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
