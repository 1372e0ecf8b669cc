"""The Dockerfile, read statically: one target per connector, Airbyte's entry point conventions."""

import tomllib
from pathlib import Path

import pytest
import yaml

from tools.dockerfile import parse

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = parse(ROOT / "Dockerfile")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TARGETS = {"source-iconik": ROOT / "metadata.yaml", "destination-bucket": ROOT / "destination_bucket" / "metadata.yaml"}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_connector_has_its_own_target(target):
    assert target in DOCKERFILE.stages


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_airbyte_entrypoint_equals_entrypoint(target):
    stage = DOCKERFILE.stages[target]
    entrypoint = stage.entrypoint()
    assert entrypoint == [target]
    assert stage.env()["AIRBYTE_ENTRYPOINT"] == " ".join(entrypoint)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_entrypoint_is_a_console_script_of_the_package(target):
    assert target in PYPROJECT["project"]["scripts"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_image_runs_as_a_non_root_user(target):
    user = DOCKERFILE.effective_user(target)
    assert user and user not in ("root", "0")


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_base_image_is_the_pinned_one_from_metadata(target):
    metadata = yaml.safe_load(TARGETS[target].read_text())["data"]
    base = DOCKERFILE.resolve(DOCKERFILE.lineage(target)[0].base)
    assert "python-connector-base" in base
    assert base == metadata["connectorBuildOptions"]["baseImage"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_labels_name_the_repository_and_version(target):
    metadata = yaml.safe_load(TARGETS[target].read_text())["data"]
    labels = " ".join(DOCKERFILE.stages[target].all("LABEL"))
    assert f"io.airbyte.name={metadata['dockerRepository']}" in labels
    assert f"io.airbyte.version={PYPROJECT['project']['version']}" in labels


def test_builder_copies_both_packages_and_installs_once():
    builder = DOCKERFILE.stages["builder"]
    copied = " ".join(builder.all("COPY"))
    assert "source_iconik" in copied and "destination_bucket" in copied and "pyproject.toml" in copied
    assert [run for run in builder.all("RUN") if run.startswith("pip install")]
