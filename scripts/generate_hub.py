"""Generate the Meltano Hub definitions and the root ``meltano.yml`` from each plugin's --about,
and the plugins' settings schemas the pipeline translator reads.

    python scripts/generate_hub.py          # write hub/..., meltano.yml, plugin_schemas.json
    python scripts/generate_hub.py --check  # exit 1 when a written file differs (drift)

Settings (names, kinds, sensitivity, descriptions) and capabilities come from
``<plugin> --about --format json``, so the definitions cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from rest_connector.pipeline.translate import PLUGIN_CLASSES, PLUGIN_SCHEMAS, build_plugin_schema

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VARIANT = "rest-api-connector"
PIP_URL = "rest-api-connector"
SANDBOX_URL = "http://127.0.0.1:8787"
SANDBOX_TOKEN = "sandbox-token"
REQUIRES_MELTANO = ">=4.0"
"""Written by ``meltano init`` since Meltano 4, in place of the deprecated ``version: 1``."""

PLUGINS: dict[str, dict[str, Any]] = {
    "tap-rest-api": {
        "kind": "extractors", "namespace": "tap_rest_api", "label": "REST API",
        "extra": None,  # the base distribution; the parquet batch files below need [delta]
        "project_extra": "delta",
        "keywords": ["rest", "http", "api", "meltano_sdk"],
        "domain_url": "https://en.wikipedia.org/wiki/REST",
        "config": {"streams": [{
            "name": "crm_customers",
            "url": "$CRM_API_URL/api/v2/customers",
            "auth": {"type": "bearer", "token": "$CRM_TOKEN"},
            "pagination": {"type": "next_link", "link_field": "next"},
            "response": {"root_key": "results"},
            "incremental": {"replication_key": "created_at", "param": "since", "sorted": True},
            "primary_keys": ["customer_id"],
            "schema": [
                {"name": "customer_id", "type": "string", "nullable": False},
                {"name": "name", "type": "string"}, {"name": "email", "type": "string"},
                {"name": "country", "type": "string"},
                {"name": "created_at", "type": "timestamp", "nullable": False},
                {"name": "score", "type": "double"}, {"name": "active", "type": "boolean"},
                {"name": "signup_date", "type": "date"},
            ],
        }],
            # Records reach target-delta as Parquet files (BATCH messages), the fast path.
            "batch_config": {"encoding": {"format": "parquet"},
                             "storage": {"root": "file://$MELTANO_PROJECT_ROOT/.meltano/batches"}},
        },
    },
    "target-rest-api": {
        "kind": "loaders", "namespace": "target_rest_api", "label": "REST API",
        "extra": None, "project_extra": None,
        "keywords": ["rest", "http", "api", "meltano_sdk"],
        "domain_url": "https://en.wikipedia.org/wiki/REST",
        "config": {"url": "$CRM_API_URL/api/v2/predictions",
                   "auth": {"type": "bearer", "token": "$CRM_TOKEN"}, "batch_size": 100},
    },
    "target-delta": {
        "kind": "loaders", "namespace": "target_delta", "label": "Delta Lake",
        "extra": "delta", "project_extra": "delta",
        "keywords": ["delta", "deltalake", "lakehouse", "meltano_sdk"],
        "domain_url": "https://delta.io",
        "config": {"path": "output/meltano/{stream}", "mode": "append",
                   "delete_batch_files": True},
    },
}
_KINDS = {"string": "string", "integer": "integer", "number": "decimal", "boolean": "boolean",
          "object": "object", "array": "array"}


def about(executable: str) -> dict[str, Any]:
    """The plugin's ``--about --format json``."""
    done = subprocess.run([str(BIN / executable), "--about", "--format", "json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _kind(schema: dict[str, Any]) -> str:
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds if k != "null"]
    if not kinds and "anyOf" in schema:
        return "string"
    return _KINDS.get(kinds[0] if kinds else "string", "string")


def settings_of(schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Meltano settings for a JSON schema; objects with declared properties become dotted names."""
    settings: list[dict[str, Any]] = []
    for name, sub in schema.get("properties", {}).items():
        full = f"{prefix}{name}"
        if _kind(sub) == "object" and sub.get("properties"):
            settings.extend(settings_of(sub, f"{full}."))
            continue
        setting: dict[str, Any] = {"name": full, "label": sub.get("title") or
                                   full.replace(".", " ").replace("_", " ").title()}
        if sub.get("secret") or sub.get("writeOnly"):
            setting.update(kind="password", sensitive=True)
        elif sub.get("enum"):
            setting["kind"] = "options"
            setting["options"] = [{"label": str(v), "value": v} for v in sub["enum"]
                                  if v is not None]
        else:
            setting["kind"] = _kind(sub)
        if sub.get("description"):
            setting["description"] = sub["description"]
        settings.append(setting)
    return settings


def _with_extra(requirement: str, extra: str | None) -> str:
    """``requirement`` with the optional dependency group the plugin needs, if any."""
    return f"{requirement}[{extra}]" if extra else requirement


def hub_definition(executable: str, info: dict[str, Any]) -> dict[str, Any]:
    """A Hub plugin definition (``hub/<kind>/<name>/<variant>.yml``)."""
    plugin = PLUGINS[executable]
    definition = {
        "name": executable,
        "namespace": plugin["namespace"],
        "variant": VARIANT,
        "label": plugin["label"],
        "description": (info.get("description") or "").strip(),
        "pip_url": _with_extra(PIP_URL, plugin["extra"]),
        "executable": executable,
        "capabilities": info["capabilities"],
        "settings": settings_of(info["settings"]),
        "keywords": plugin["keywords"],
        "domain_url": plugin["domain_url"],
        "maintenance_status": "active",
        "quality": "unknown",
    }
    if info.get("supported_python_versions"):
        definition["supported_python_versions"] = info["supported_python_versions"]
    return definition


def meltano_project(definitions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The root ``meltano.yml``: the three plugins from the repository, aimed at the sandbox."""
    plugins: dict[str, list[dict[str, Any]]] = {"extractors": [], "loaders": []}
    for executable, definition in definitions.items():
        keep = ("name", "namespace", "label", "executable", "capabilities", "settings")
        entry = {key: definition[key] for key in keep}
        entry["pip_url"] = "-e " + _with_extra(".", PLUGINS[executable]["project_extra"])
        entry["config"] = PLUGINS[executable]["config"]
        plugins[PLUGINS[executable]["kind"]].append(entry)
    return {
        "requires_meltano": REQUIRES_MELTANO,
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "env": {"CRM_API_URL": SANDBOX_URL, "CRM_TOKEN": SANDBOX_TOKEN},
        "plugins": plugins,
    }


def _dump(data: dict[str, Any], header: str) -> str:
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def generated_files() -> dict[Path, str]:
    """Every generated file and its content."""
    header = "# Generated by scripts/generate_hub.py from the plugins' --about; do not edit.\n"
    definitions = {name: hub_definition(name, about(name)) for name in PLUGINS}
    files = {ROOT / "hub" / PLUGINS[name]["kind"] / name / f"{VARIANT}.yml": _dump(d, header)
             for name, d in definitions.items()}
    files[ROOT / "meltano.yml"] = _dump(meltano_project(definitions), header)
    schemas = {name: build_plugin_schema(name) for name in PLUGIN_CLASSES}
    files[PLUGIN_SCHEMAS] = json.dumps(schemas, indent=1) + "\n"
    return files


def main() -> int:
    """Write the files, or with ``--check`` report the ones that drifted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    drifted = []
    for path, text in generated_files().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                drifted.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in drifted:
        print(f"out of date: {path.relative_to(ROOT)} (run python scripts/generate_hub.py)")
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
