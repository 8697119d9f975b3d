"""Fixtures for the pipeline tests: a sandbox API with a canary token, pipeline files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rest_connector.sandbox import SandboxServer
from tests.conftest import CANARY_TOKEN

CRM_INPUT = """
MODEL: etl
VERSION: "1.0.0"
CONFIG:
  inputs:
    crm_customers:
      format: rest_api
      url: "{{ env.CRM_API_URL }}/api/v2/customers"
      params:
        since: "{{ dt | default('2025-01-01') }}"
      auth:
        type: bearer
        token: "{{ env.CRM_TOKEN }}"
"""
"""The spec's customer-sync input, with its URL, token and ``since`` from templates."""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox API on a free port, accepting the canary token."""
    with SandboxServer(token=CANARY_TOKEN) as server:
        yield server


@pytest.fixture
def write_pipeline(tmp_path: Path) -> Callable[[str], Path]:
    """Write a pipeline YAML (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "pipeline.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write
