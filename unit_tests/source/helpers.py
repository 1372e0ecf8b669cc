"""What the source's unit tests share: the fake account's constants and a read that must not fail."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from source_iconik import SourceIconik

BASE = "https://app.iconik.io"
APP_ID = "2c5bfe1a-f149-11eb-a843-0a580a3db916"
TOKEN = "unit-test-token-0123456789"
# Retries stay on (tests check them) but wait as little as the CDK allows.
FAST = {"max_retries": 2, "backoff_base": 0.01, "timeout": 5.0}
V1 = "aaaaaaaa-0000-0000-0000-000000000001"
V2 = "aaaaaaaa-0000-0000-0000-000000000002"


def ts(day: int, hour: int = 0) -> str:
    return f"2024-05-{day:02d}T{hour:02d}:00:00.000000+00:00"


def read_ok(config, stream, mode=SyncMode.full_refresh, state=None):
    """One stream read through the CDK's entrypoint, asserting it raised no error."""
    catalog = CatalogBuilder().with_stream(stream, mode).build()
    output = read(SourceIconik(**FAST), config, catalog, state)
    assert not output.errors, output.get_formatted_error_message()
    return output


def data(output):
    return [message.record.data for message in output.records]
