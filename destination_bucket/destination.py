"""DestinationBucket: spec, check (a write/read/remove probe) and write, on the CDK's Destination.

The CDK's base class turns every input line into a typed message, which drops fields it does not know
(the platform's state `id`, for one). This destination keeps messages as plain dicts instead, so
whatever the platform sends on a STATE comes back on the echo.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import orjson
from airbyte_cdk.destinations import Destination
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalogSerializer,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    FailureType,
    Status,
)
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets, update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_bucket.config import parse_config
from destination_bucket.store import Store
from destination_bucket.sync import SyncWriter

logger = logging.getLogger("airbyte")
PROBE_PREFIX = "_meta/check-"


class DestinationBucket(Destination):
    # parse_config validates every field with messages that name it; the CDK's generic jsonschema pass
    # would answer first, without the field's name.
    check_config_against_spec = False

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        spec = json.loads(resources.files("destination_bucket").joinpath("spec.json").read_text())
        return ConnectorSpecificationSerializer.load(spec)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            parsed = parse_config(dict(config))
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        probe = f"{PROBE_PREFIX}{uuid.uuid4().hex}.json"
        step = "open the bucket"
        try:
            store = Store(parsed.bucket_url, parsed.storage_options)
            step = "write a probe object to the bucket"
            store.put_json(probe, {"probe": probe})
            step = "read the probe object back"
            if (store.read_json(probe) or {}).get("probe") != probe:
                raise OSError("the object read back differs from the one written")
            step = "remove the probe object"
            store.remove(probe)
        except Exception as error:  # any backend's error: report which step failed, in words
            return AirbyteConnectionStatus(
                status=Status.FAILED,
                message=f"Could not {step} at {parsed.bucket_url}: {type(error).__name__}: {error}. "
                "Check the bucket URL, the endpoint and that the credentials may write, read and delete.",
            )
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _parse_input_stream(self, input_stream: io.TextIOWrapper) -> Iterator[dict]:
        for line in input_stream:
            if not line.strip():
                continue
            try:
                message = orjson.loads(line)
            except orjson.JSONDecodeError:
                logger.info(f"Ignored an input line that is not an Airbyte message ({len(line)} characters).")
                continue
            if isinstance(message, dict):
                yield message

    def _run_write(self, config, configured_catalog_path, input_stream) -> Iterable[Any]:
        with open(configured_catalog_path, "rb") as handle:
            catalog = orjson.loads(handle.read())
        yield from self.write(config, catalog, self._parse_input_stream(input_stream))

    def write(self, config: Mapping[str, Any], configured_catalog: Any, input_messages: Iterable[Any]
              ) -> Iterable[dict]:
        """Messages in and out are plain dicts (typed messages are accepted and converted)."""
        parsed = parse_config(dict(config))
        catalog = (configured_catalog if isinstance(configured_catalog, dict)
                   else ConfiguredAirbyteCatalogSerializer.dump(configured_catalog))
        messages = (m if isinstance(m, dict) else AirbyteMessageSerializer.dump(m) for m in input_messages)
        yield from SyncWriter(parsed, catalog).run(messages)

    def run_cmd(self, parsed_args) -> Iterable[Any]:
        if parsed_args.command != "check":
            yield from super().run_cmd(parsed_args)
            return
        # The CDK checks `check`'s config against the spec's JSON schema first, with messages that do not
        # name the field ("2 is greater than the maximum of 1"); parse_config, run by check, names it.
        config = self.read_config(config_path=parsed_args.config)
        update_secrets(get_secrets(self.spec(logger).connectionSpecification, config))
        yield self._run_check(config=config)

    def run(self, args: list[str]) -> None:
        init_uncaught_exception_handler(logger)
        try:
            for message in self.run_cmd(self.parse_args(args)):
                payload = message if isinstance(message, dict) else AirbyteMessageSerializer.dump(message)
                sys.stdout.write(orjson.dumps(payload).decode() + "\n")
                sys.stdout.flush()
        except AirbyteTracedException as error:
            if error.failure_type != FailureType.config_error:
                raise
            # A config error is the user's to fix: one readable TRACE error, exit 1, no stack trace.
            error.with_traceback(None).emit_message()
            sys.exit(1)
