"""Console entry point: source-iconik spec|check|discover|read."""

import sys

from airbyte_cdk.entrypoint import launch

from source_iconik.source import SourceIconik


def run() -> None:
    launch(SourceIconik(), sys.argv[1:])


if __name__ == "__main__":
    run()
