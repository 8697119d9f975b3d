"""A pipeline input takes the tap's response formats and report jobs; validate checks them."""

from __future__ import annotations

import pytest

from rest_connector.pipeline.problems import PipelineError
from rest_connector.pipeline.translate import translate

PIPELINE = """
CONFIG:
  inputs:
    ads_spend:
      format: rest_api
      schema: [{name: campaign, type: string}, {name: clicks, type: integer}]
      response:
        format: csv
        compression: gzip
        csv: {delimiter: ";", encoding: latin-1, skip_rows: 1}
      report:
        create: {url: "https://ads.example.com/reports", method: POST, body: {days: 7}}
        poll:
          url: "https://ads.example.com/reports/{job.id}"
          every: 10
          done: [DONE]
          failed: [FAILED]
        download: {url_field: result.url}
  outputs:
    lake:
      format: delta
      path: /tmp/out/spend
"""


def _problems(write_pipeline, text: str) -> list[str]:
    with pytest.raises(PipelineError) as raised:
        translate(write_pipeline(text), env={})
    return [str(problem) for problem in raised.value.problems]


def test_formats_and_report_pass_through_unchanged(write_pipeline):
    pipeline = translate(write_pipeline(PIPELINE), env={})
    [stream] = pipeline.tap.settings["streams"]
    assert stream["response"]["csv"] == {"delimiter": ";", "encoding": "latin-1",
                                         "skip_rows": 1}
    assert stream["report"]["poll"]["url"] == "https://ads.example.com/reports/{job.id}"
    assert "url" not in stream


def test_typos_get_did_you_mean_hints_at_their_lines(write_pipeline):
    text = (PIPELINE.replace("format: csv", "format: cvs")
            .replace("compression: gzip", "compresion: gzip")
            .replace("url_field:", "url_feld:"))
    found = _problems(write_pipeline, text)
    assert any(p.startswith("line 7: CONFIG.inputs.ads_spend.response.format: 'cvs' is not "
                            "one of json, jsonl, csv, xml — did you mean 'csv'?") for p in found)
    assert any(p.startswith("line 8: CONFIG.inputs.ads_spend.response.compresion: unknown "
                            "setting — did you mean 'compression'?") for p in found)
    assert any("report.download.url_feld: unknown setting — did you mean 'url_field'?" in p
               for p in found)


def test_format_rules_are_reported_at_their_yaml_lines(write_pipeline):
    text = (PIPELINE.replace("csv: {delimiter", "root_key: data\n        csv: {delimiter")
            .replace("      schema: [{name: campaign, type: string}, {name: clicks, "
                     "type: integer}]\n", ""))
    found = _problems(write_pipeline, text)
    assert any(p.startswith("line 8: CONFIG.inputs.ads_spend.response.root_key: does not apply "
                            "to format 'csv'") for p in found), found
    assert any("CONFIG.inputs.ads_spend.schema: required with report" in p for p in found)
