"""Airbyte source for iconik."""

from source_iconik.source import SourceIconik

__all__ = ["SourceIconik"]
