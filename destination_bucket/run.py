"""Console entry point: destination-bucket spec|check|write."""

import sys

from destination_bucket.destination import DestinationBucket


def run() -> None:
    DestinationBucket().run(sys.argv[1:])


if __name__ == "__main__":
    run()
