"""Benchmarks of source-iconik and destination-bucket against the local iconik emulator (`python -m bench`)."""
