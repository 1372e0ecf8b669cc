"""destination-bucket: iconik records as bucket objects (object.json + media file), deletes included."""

from destination_bucket.destination import DestinationBucket

__all__ = ["DestinationBucket"]
