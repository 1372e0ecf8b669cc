"""Webhook delivery: iconik-shaped event payloads POSTed with the webhook's custom headers (no signing)."""

from __future__ import annotations

import queue
import secrets
import threading
import time

import requests


class WebhookSender:
    def __init__(self) -> None:
        self.targets: list[dict] = []  # {"url", "headers", "event_type"}
        self.delivered: list[dict] = []  # {"url", "status", "payload"} for tests
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None

    def set_target(self, url: str | None, headers: dict | None = None) -> None:
        self.targets = [{"url": url, "headers": dict(headers or {}), "event_type": "assets"}] if url else []

    def add_target(self, webhook: dict) -> None:
        self.targets.append(webhook)

    def send(self, user: dict, object_id: str, operation: str, data: dict) -> None:
        if not self.targets:
            return
        payload = {
            "system_domain_id": user["system_domain_id"], "object_id": object_id, "user_id": user["id"],
            "realm": "entity", "operation": operation, "event_type": "assets",
            "request_id": secrets.token_hex(16), "data": data,
        }
        for target in list(self.targets):
            if target.get("event_type", "assets") == "assets" and target.get("status", "ENABLED") == "ENABLED":
                self._queue.put((target, payload))
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, daemon=True, name="emulator-webhooks")
            self._worker.start()

    def _run(self) -> None:
        while True:
            try:
                target, payload = self._queue.get(timeout=5)
            except queue.Empty:
                return
            headers = {"Content-Type": "application/json", **target.get("headers", {})}
            try:
                status = requests.post(target["url"], json=payload, headers=headers, timeout=10).status_code
            except requests.RequestException as exc:
                status = f"error: {type(exc).__name__}"
            self.delivered.append({"url": target["url"], "status": status, "payload": payload})
            self._queue.task_done()

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until queued deliveries are sent, the one in flight included (for tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
