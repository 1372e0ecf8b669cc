# One image per connector, from Airbyte's python-connector base image (pinned by digest, the same one
# metadata.yaml names). Build a connector with its target:
#   docker build --target source-iconik      -t airbyte/source-iconik:dev .
#   docker build --target destination-bucket -t airbyte/destination-bucket:dev .
# `make image-smoke` replays the install steps below in a fresh venv and runs `spec` through each
# target's entry point, since this machine has no Docker daemon.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

FROM ${BASE_IMAGE} AS builder
WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md LICENSE ./
COPY source_iconik ./source_iconik
COPY destination_bucket ./destination_bucket
RUN pip install --no-cache-dir --prefix=/install '.[s3]'

FROM ${BASE_IMAGE} AS runtime
WORKDIR /airbyte/integration_code
COPY --from=builder /install /usr/local
# Connectors never need root: run as the unprivileged airbyte user (uid 1000), created if the base lacks it.
RUN id -u airbyte >/dev/null 2>&1 || useradd --create-home --uid 1000 airbyte
USER airbyte

FROM runtime AS source-iconik
LABEL io.airbyte.name=airbyte/source-iconik io.airbyte.version=0.1.0
ENV AIRBYTE_ENTRYPOINT="source-iconik"
ENTRYPOINT ["source-iconik"]

FROM runtime AS destination-bucket
LABEL io.airbyte.name=airbyte/destination-bucket io.airbyte.version=0.1.0
ENV AIRBYTE_ENTRYPOINT="destination-bucket"
ENTRYPOINT ["destination-bucket"]
