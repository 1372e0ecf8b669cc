"""SourceIconik: config -> one shared context (client, rate budget, tree) -> the six streams."""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    Status,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iconik.config import parse_config
from source_iconik.context import SyncContext
from source_iconik.streams.assets import Assets
from source_iconik.streams.collections import Collections
from source_iconik.streams.deletions import AssetInventory, DeletedAssets
from source_iconik.streams.metadata_views import MetadataViews
from source_iconik.streams.proxies import Proxies

CHECK_PATH = "/API/users/v1/users/current/"


class SourceIconik(AbstractSource):
    # parse_config validates every field with messages that name it; the CDK's generic jsonschema pass
    # would answer first, without the field's name.
    check_config_against_spec = False

    def __init__(self, **client_options: Any):
        super().__init__()
        self._client_options = client_options  # tests shrink retries and backoff here
        self._contexts: dict[str, SyncContext] = {}

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        spec = json.loads(resources.files("source_iconik").joinpath("spec.json").read_text())
        return ConnectorSpecificationSerializer.load(spec)

    def _context(self, config: dict, logger: logging.Logger | None = None) -> SyncContext:
        parsed = parse_config(config)
        key = json.dumps(config, sort_keys=True, default=str)
        if key not in self._contexts:
            self._contexts[key] = SyncContext(parsed, logger, **self._client_options)
        return self._contexts[key]

    def check_connection(self, logger: logging.Logger, config: dict) -> tuple[bool, Any]:
        try:
            context = self._context(config, logger)
            user = context.client.get(CHECK_PATH)
        except AirbyteTracedException as error:
            return False, error.message
        if not isinstance(user, dict) or "id" not in user:
            return False, "The base URL does not answer like iconik: check base_url."
        return True, None

    def check(self, logger: logging.Logger, config: dict) -> AirbyteConnectionStatus:
        """As the CDK's, but the reason reads as written (the CDK shows repr(), in quotes)."""
        succeeded, reason = self.check_connection(logger, config)
        if succeeded:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED)
        return AirbyteConnectionStatus(status=Status.FAILED, message=str(reason))

    def streams(self, config: dict) -> list[Stream]:
        context = self._context(config)
        return [Assets(context), Collections(context), MetadataViews(context), Proxies(context),
                DeletedAssets(context), AssetInventory(context)]
