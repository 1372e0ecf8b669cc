"""Console entry point: source-iconik spec|check|discover|read."""

import sys

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iconik.source import SourceIconik


class IconikEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec, config) -> None:
        """The CDK checks `check`'s config against the spec's JSON schema first, with messages that do not
        name the field ("0 is less than the minimum of 1"); parse_config, run by check_connection, names it."""


def run() -> None:
    entrypoint = IconikEntrypoint(SourceIconik())  # what airbyte_cdk.entrypoint.launch does
    parsed_args = entrypoint.parse_args(sys.argv[1:])
    try:
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        # A config error is the user's to fix: one readable TRACE error, exit 1, no stack trace.
        error.with_traceback(None).emit_message()
        sys.exit(1)


if __name__ == "__main__":
    run()
