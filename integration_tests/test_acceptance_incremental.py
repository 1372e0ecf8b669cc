"""The acceptance config's incremental case: a far-future state reads no records and keeps its cursors."""

import json
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder

from source_iconik import SourceIconik

ROOT = Path(__file__).resolve().parent.parent


def incremental_cases():
    config = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())
    return config["acceptance_tests"]["incremental"]["tests"]


@pytest.mark.usefixtures("acceptance_emulator")
@pytest.mark.parametrize("case", incremental_cases(), ids=lambda c: c["config_path"])
def test_far_future_state_returns_no_records_and_an_unchanged_state(case):
    config = json.loads((ROOT / case["config_path"]).read_text())
    catalog = ConfiguredAirbyteCatalogSerializer.load(json.loads((ROOT / case["configured_catalog_path"]).read_text()))
    saved = json.loads((ROOT / case["future_state"]["future_state_path"]).read_text())
    builder = StateBuilder()
    for entry in saved:
        builder = builder.with_stream_state(entry["stream"]["stream_descriptor"]["name"], entry["stream"]["stream_state"])
    output = read(SourceIconik(), config, catalog, builder.build())
    assert not output.errors, output.get_formatted_error_message()
    assert output.records == []
    final = {m.state.stream.stream_descriptor.name: m.state.stream.stream_state.__dict__ for m in output.state_messages}
    for entry in saved:
        name = entry["stream"]["stream_descriptor"]["name"]
        assert final[name] == entry["stream"]["stream_state"], name
