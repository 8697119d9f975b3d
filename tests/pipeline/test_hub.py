"""Meltano Hub definitions: generated from --about (no drift), schema-valid, installable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from tests.pipeline.meltano_project import ROOT, meltano

SCHEMAS = ROOT / "tests" / "data" / "meltano-hub-schemas"  # vendored: see its README.md
DEFINITIONS = {
    "extractors": ROOT / "hub" / "extractors" / "tap-rest-api" / "rest-api-connector.yml",
    "loaders-rest": ROOT / "hub" / "loaders" / "target-rest-api" / "rest-api-connector.yml",
    "loaders-delta": ROOT / "hub" / "loaders" / "target-delta" / "rest-api-connector.yml",
}


def test_generated_files_match_the_plugins_about_output():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_hub.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def hub_validator(kind: str) -> Draft7Validator:
    """A validator for the Hub schema of ``kind``, resolving its relative $refs from disk."""
    base = SCHEMAS / "plugin_definitions"
    resources = []
    for path in SCHEMAS.rglob("*.schema.json"):
        uri = path.relative_to(SCHEMAS).as_posix()
        contents = json.loads(path.read_text())
        resources.append((f"file:///{uri}", Resource.from_contents(contents)))
        resources.append((contents.get("$id", uri), Resource.from_contents(contents)))
    schema = json.loads((base / f"{kind}.schema.json").read_text())
    schema["$id"] = f"file:///plugin_definitions/{kind}.schema.json"
    return Draft7Validator(schema, registry=Registry().with_resources(resources))


@pytest.mark.parametrize("key", list(DEFINITIONS))
def test_definitions_are_valid_against_the_hub_schemas(key):
    definition = yaml.safe_load(DEFINITIONS[key].read_text())
    validator = hub_validator(key.split("-")[0])
    assert [error.message for error in validator.iter_errors(definition)] == []
    secrets = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    if key == "loaders-delta":
        assert secrets == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    else:  # every credential: auth values, the login body, keys, a proxy URL with its user
        assert secrets == {"auth.token", "auth.key", "auth.username", "auth.password",
                           "auth.client_secret", "auth.refresh_token", "auth.private_key",
                           "auth.login.body", "auth.login.form", "proxy"}
    broken = dict(definition, capabilities=["nope"], quality="platinum")
    assert len(list(validator.iter_errors(broken))) >= 2


def test_meltano_add_from_ref_installs_the_plugin(tmp_path):
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "meltano.yml").write_text("default_environment: dev\nenvironments:\n- name: dev\n")
    definition = yaml.safe_load(DEFINITIONS["loaders-delta"].read_text())
    assert definition["pip_url"] == "rest-api-connector[delta]"  # target-delta's extra
    # The package is not on PyPI: install this checkout, with the definition's extra.
    definition["pip_url"] = definition["pip_url"].replace("rest-api-connector", f"-e {ROOT}")
    reference = tmp_path / "target-delta.yml"
    reference.write_text(yaml.safe_dump(definition))
    added = meltano(project, "add", "loader", "target-delta", "--from-ref", str(reference))
    assert added.returncode == 0, added.stderr[-3000:]
    project_file = yaml.safe_load((project / "meltano.yml").read_text())
    [loader] = project_file["plugins"]["loaders"]
    assert loader["name"] == "target-delta" and loader["variant"] == "rest-api-connector"
    about = meltano(project, "invoke", "target-delta", "--about", "--format", "json")
    assert about.returncode == 0, about.stderr[-3000:]
    assert json.loads(about.stdout)["name"] == "target-delta"


def test_meltano_yml_declares_the_three_plugins():
    project = yaml.safe_load(Path(ROOT / "meltano.yml").read_text())
    names = [p["name"] for kind in ("extractors", "loaders") for p in project["plugins"][kind]]
    assert names == ["tap-rest-api", "target-rest-api", "target-delta"]
    # Each plugin installs with the extra it needs (the tap's parquet batch files need pyarrow).
    assert [p["pip_url"] for kind in ("extractors", "loaders") for p in project["plugins"][kind]
            ] == ["-e .[delta]", "-e .", "-e .[delta]"]
    assert project["requires_meltano"] == ">=4.0"
    assert "version" not in project  # deprecated by Meltano 4
    assert project["plugins"]["extractors"][0]["config"]["streams"][0]["auth"]["token"] == \
        "$CRM_TOKEN"
