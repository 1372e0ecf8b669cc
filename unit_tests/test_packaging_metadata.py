"""metadata.yaml of both connectors against the rules of Airbyte's registry schema.

The rules below restate Airbyte's ConnectorMetadataDefinitionV0 (required fields, types, enums, no
unknown keys in `data`) as a JSON schema, and add the project's own: the image tag is the package version,
the base image is pinned by digest and the tags say Python.
"""

import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from airbyte_cdk.models.connector_metadata import MetadataFile

ROOT = Path(__file__).resolve().parent.parent
METADATA_FILES = {"source": ROOT / "metadata.yaml", "destination": ROOT / "destination_bucket" / "metadata.yaml"}

_STRING = {"type": "string", "minLength": 1}
_REGISTRY_OVERRIDE = {
    "type": "object",
    "required": ["enabled"],
    "properties": {"enabled": {"type": "boolean"}},
}
METADATA_RULES = {
    "type": "object",
    "required": ["metadataSpecVersion", "data"],
    "additionalProperties": False,
    "properties": {
        "metadataSpecVersion": _STRING,
        "data": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
                "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage",
                # Not required by Airbyte's schema, but by this project's registry entry.
                "supportLevel", "tags", "connectorBuildOptions", "allowedHosts", "remoteRegistries",
                "ab_internal", "connectorTestSuitesOptions", "releases",
            ],
            "properties": {
                "name": _STRING,
                "icon": _STRING,
                "definitionId": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
                "connectorType": {"enum": ["source", "destination"]},
                "connectorSubtype": {
                    "enum": ["api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"]
                },
                "dockerRepository": {"type": "string", "pattern": "^airbyte/(source|destination)-[a-z0-9-]+$"},
                "dockerImageTag": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
                "license": _STRING,
                "documentationUrl": {"type": "string", "pattern": "^https://"},
                "githubIssueLabel": _STRING,
                "releaseStage": {"enum": ["alpha", "beta", "generally_available", "custom"]},
                "supportLevel": {"enum": ["community", "certified", "archived"]},
                "releaseDate": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "protocolVersion": _STRING,
                "tags": {"type": "array", "items": _STRING},
                "connectorBuildOptions": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["baseImage"],
                    "properties": {"baseImage": {"type": "string", "pattern": "@sha256:[0-9a-f]{64}$"}},
                },
                "allowedHosts": {
                    "type": "object",
                    "required": ["hosts"],
                    "properties": {"hosts": {"type": "array", "items": _STRING, "minItems": 1}},
                },
                "remoteRegistries": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "pypi": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["enabled", "packageName"],
                            "properties": {"enabled": {"type": "boolean"}, "packageName": _STRING},
                        }
                    },
                },
                "registryOverrides": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"oss": _REGISTRY_OVERRIDE, "cloud": _REGISTRY_OVERRIDE},
                },
                "suggestedStreams": {"type": "object", "properties": {"streams": {"type": "array", "items": _STRING}}},
                "ab_internal": {
                    "type": "object",
                    "properties": {
                        "sl": {"enum": [0, 100, 200, 300]},
                        "ql": {"enum": [0, 100, 200, 300, 400, 500, 600]},
                    },
                },
                "connectorTestSuitesOptions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["suite"],
                        "properties": {
                            "suite": {"enum": ["unitTests", "integrationTests", "acceptanceTests", "liveTests"]}
                        },
                    },
                },
                "releases": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "breakingChanges": {"type": "object"},
                        "migrationDocumentationUrl": _STRING,
                        "rolloutConfiguration": {"type": "object"},
                    },
                },
            },
        },
    },
}


def _pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _load(kind: str) -> dict:
    return yaml.safe_load(METADATA_FILES[kind].read_text())


@pytest.mark.parametrize("kind", sorted(METADATA_FILES))
def test_metadata_follows_airbyte_registry_rules(kind):
    jsonschema.validate(_load(kind), METADATA_RULES)


@pytest.mark.parametrize("kind", sorted(METADATA_FILES))
def test_metadata_parses_with_the_cdk_model(kind):
    parsed = MetadataFile.from_file(METADATA_FILES[kind])
    assert parsed.data.language.value == "python"


@pytest.mark.parametrize("kind", sorted(METADATA_FILES))
def test_image_tag_is_the_package_version(kind):
    assert _load(kind)["data"]["dockerImageTag"] == _pyproject_version()


@pytest.mark.parametrize("kind", sorted(METADATA_FILES))
def test_connector_type_matches_repository_and_tags(kind):
    data = _load(kind)["data"]
    assert data["connectorType"] == kind
    assert data["dockerRepository"].startswith(f"airbyte/{kind}-")
    assert {"language:python", "cdk:python"} <= set(data["tags"])
    assert data["license"] == "MIT"


def test_definition_ids_are_distinct_and_fixed():
    ids = {kind: _load(kind)["data"]["definitionId"] for kind in METADATA_FILES}
    assert ids == {
        "source": "2a925882-d39c-49c3-a7d7-ef49798626ff",
        "destination": "7e469fb7-bba2-4d0e-926a-bb8432ed9844",
    }


def test_source_allows_its_configured_host():
    assert "${base_url}" in _load("source")["data"]["allowedHosts"]["hosts"]


def test_the_rules_reject_a_broken_metadata_file():
    broken = _load("source")
    del broken["data"]["definitionId"]
    broken["data"]["releaseStage"] = "stable"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, METADATA_RULES)


@pytest.mark.parametrize("kind", sorted(METADATA_FILES))
def test_icon_exists(kind):
    icon = METADATA_FILES[kind].parent / _load(kind)["data"]["icon"]
    assert icon.read_text().lstrip().startswith("<svg")
