"""The control API under /_emulator/ (kept apart from iconik's paths) and its Python client."""

from __future__ import annotations

import json
from dataclasses import fields

import requests
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from iconik_emulator.limits import Faults, Limits

# Control operations that take a JSON object of keyword arguments and change the library.
CHANGES = ("modify_asset", "set_metadata", "add_asset", "move_asset", "delete_asset", "restore_asset", "purge_asset")


def _update(target, values: dict, kind) -> dict:
    names = {f.name for f in fields(kind)}
    unknown = set(values) - names
    if unknown:
        raise KeyError(f"unknown {kind.__name__.lower()} settings: {sorted(unknown)}")
    for name, value in values.items():
        setattr(target, name, value)
    return {f.name: getattr(target, f.name) for f in fields(kind)}


async def _control(request: Request) -> JSONResponse:
    state = request.app.state.emulator
    name = request.path_params["name"]
    try:
        body = await request.json() if request.method == "POST" and await request.body() else {}
    except json.JSONDecodeError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    try:
        if name in CHANGES:
            return JSONResponse({"result": getattr(state, name)(**body)})
        if name == "set_limits":
            result = _update(state.limits, body, Limits)
            state.bucket.reset()
            return JSONResponse({"result": result})
        if name == "set_faults":
            result = _update(state.fault_plan.faults, body, Faults)
            state.fault_plan.reseed()
            return JSONResponse({"result": result})
        if name == "set_index_lag":
            state.index_lag_seconds = float(body["seconds"])
            return JSONResponse({"result": state.index_lag_seconds})
        if name == "set_url_ttl":
            state.url_ttl_seconds = float(body["seconds"])
            return JSONResponse({"result": state.url_ttl_seconds})
        if name == "set_embed_metadata":
            state.embed_metadata = bool(body["enabled"])
            return JSONResponse({"result": state.embed_metadata})
        if name == "set_embed_proxies":
            state.embed_proxies = bool(body["enabled"])
            return JSONResponse({"result": state.embed_proxies})
        if name == "counters":
            return JSONResponse({"result": state.counter_report()})
        if name == "reset_counters":
            state.reset_counters()
            return JSONResponse({"result": None})
        if name == "set_webhook":
            state.webhook.set_target(body.get("url"), body.get("headers"))
            return JSONResponse({"result": None})
        if name == "webhook_deliveries":
            state.webhook.wait_idle()
            return JSONResponse({"result": state.webhook.delivered})
    except (KeyError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"error": f"unknown control operation {name!r}"}, status_code=404)


def control_routes() -> list[Route]:
    return [Route("/_emulator/{name}", _control, methods=["GET", "POST"])]


class Control:
    """Python client of the control API: the same calls for an in-process or a separate emulator."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._session = requests.Session()

    def _call(self, name: str, **body):
        response = self._session.post(f"{self.base_url}/_emulator/{name}", json=body, timeout=30)
        payload = response.json()
        if response.status_code != 200:
            raise ValueError(payload.get("error", response.text))
        return payload["result"]

    def modify_asset(self, asset_id: str, **fields_) -> dict:
        return self._call("modify_asset", asset_id=asset_id, **fields_)

    def set_metadata(self, asset_id: str, view_id: str, values: dict) -> dict:
        return self._call("set_metadata", asset_id=asset_id, view_id=view_id, values=values)

    def add_asset(self, title: str, collection_ids: list[str] | None = None, media_type: str = "video") -> str:
        return self._call("add_asset", title=title, collection_ids=collection_ids or [], media_type=media_type)

    def move_asset(self, asset_id: str, from_collection_id: str, to_collection_id: str) -> dict:
        return self._call("move_asset", asset_id=asset_id, from_collection_id=from_collection_id,
                          to_collection_id=to_collection_id)

    def delete_asset(self, asset_id: str) -> dict:
        return self._call("delete_asset", asset_id=asset_id)

    def restore_asset(self, asset_id: str) -> dict:
        return self._call("restore_asset", asset_id=asset_id)

    def purge_asset(self, asset_id: str) -> None:
        return self._call("purge_asset", asset_id=asset_id)

    def set_limits(self, **limits) -> dict:
        return self._call("set_limits", **limits)

    def set_faults(self, **faults) -> dict:
        return self._call("set_faults", **faults)

    def set_index_lag(self, seconds: float) -> float:
        return self._call("set_index_lag", seconds=seconds)

    def set_url_ttl(self, seconds: float) -> float:
        return self._call("set_url_ttl", seconds=seconds)

    def set_embed_metadata(self, enabled: bool) -> bool:
        return self._call("set_embed_metadata", enabled=enabled)

    def set_embed_proxies(self, enabled: bool) -> bool:
        return self._call("set_embed_proxies", enabled=enabled)

    def counters(self) -> dict:
        return self._call("counters")

    def reset_counters(self) -> None:
        return self._call("reset_counters")

    def set_webhook(self, url: str | None, headers: dict | None = None) -> None:
        return self._call("set_webhook", url=url, headers=headers or {})

    def webhook_deliveries(self) -> list[dict]:
        return self._call("webhook_deliveries")
