"""Signed media URLs: deterministic bytes per file, Range requests, expiry (403). Not rate limited."""

from __future__ import annotations

import hashlib
import time

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

BLOCK = 32  # sha256 output size


def media_bytes(object_id: str, size: int, start: int = 0, end: int | None = None) -> bytes:
    """Bytes [start, end) of the file `object_id` of `size` bytes: sha256(object_id:block) blocks."""
    end = size if end is None else min(end, size)
    if start >= end:
        return b""
    first, last = start // BLOCK, (end - 1) // BLOCK
    seed = object_id.encode()
    data = b"".join(hashlib.sha256(seed + b":" + str(n).encode()).digest() for n in range(first, last + 1))
    offset = first * BLOCK
    return data[start - offset:end - offset]


def _chunks(object_id: str, size: int, start: int, end: int, step: int = 1 << 16):
    for position in range(start, end, step):
        yield media_bytes(object_id, size, position, min(end, position + step))


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[6:].split(",")[0].strip().partition("-")
    if first == "":
        length = int(last)
        return max(0, size - length), size
    start = int(first)
    stop = int(last) + 1 if last else size
    return start, min(stop, size)


async def serve(request: Request) -> Response:
    state = request.app.state.emulator
    claims = state.verify(request.path_params["token"], request.query_params.get("sig", ""))
    if claims is None:
        return Response("<Error><Code>SignatureDoesNotMatch</Code></Error>", status_code=403,
                        media_type="application/xml")
    if claims["e"] < time.time():
        return Response("<Error><Code>ExpiredToken</Code><Message>Request has expired</Message></Error>",
                        status_code=403, media_type="application/xml")
    if claims["a"] not in state.lib.assets:
        return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
    size = int(claims["s"])
    try:
        wanted = _range(request.headers.get("range"), size)
    except ValueError:
        wanted = None
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{hashlib.md5(claims["o"].encode()).hexdigest()}"'}
    if wanted is None:
        start, end, status = 0, size, 200
    else:
        start, end = wanted
        if start >= size:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(_chunks(claims["o"], size, start, end), status_code=status, headers=headers,
                             media_type="application/octet-stream")
