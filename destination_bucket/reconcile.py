"""Deletes, always soft first: tombstones, the inventory sweep, revivals and the grace-period purge.

A soft delete moves `objects/<stream>/<key>/` to `_trash/<stream>/<key>/` and writes `_deleted.json`
({deleted_at, reason}) inside it; a live record or an inventory entry for that key moves it back; the
purge removes trash older than the grace period. The sweep (objects absent from a complete inventory)
is refused, with a clear log line, when the proof does not hold or when it would remove more than
`max_delete_fraction` of the stream's objects.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pendulum

from destination_bucket.objects import object_key
from destination_bucket.store import Store, key_part

TRASH = "_trash"
DELETED_MARKER = "_deleted.json"

logger = logging.getLogger("airbyte")


def trash_key(stream: str, key: str) -> str:
    return f"{TRASH}/{key_part(stream)}/{key}"


def _parse(value) -> datetime | None:
    try:
        return pendulum.parse(str(value)) if value else None
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        return None


@dataclass
class InventoryProof:
    """What the source's `asset_inventory` state says about the list it emitted."""

    complete: bool
    seen: int | None
    total: int | None
    emitted: int | None
    scope: str | None = None

    @classmethod
    def from_state(cls, state: dict | None) -> InventoryProof | None:
        proof = (state or {}).get("inventory") if isinstance(state, dict) else None
        if not isinstance(proof, dict):
            return None
        return cls(bool(proof.get("complete")), proof.get("seen"), proof.get("total"), proof.get("emitted"),
                   proof.get("scope"))

    def refusal(self, received: int) -> str | None:
        """Why a sweep must not run, or None when the proof holds."""
        if not self.complete:
            return "the source did not mark the inventory complete"
        if self.total is None or self.seen != self.total:
            return f"the source saw {self.seen} of iconik's {self.total} assets"
        if self.emitted != received:
            return f"the source emitted {self.emitted} inventory records but {received} arrived"
        return None


class Reconciler:
    def __init__(self, store: Store, grace_hours: float, max_delete_fraction: float, now: datetime | None = None):
        self.store = store
        self.grace = timedelta(hours=grace_hours)
        self.max_delete_fraction = max_delete_fraction
        self.now = now or datetime.now(UTC)
        self.counts = {"deleted": 0, "restored": 0, "purged": 0, "swept": 0}

    # ---- one object ------------------------------------------------------------------------------------
    def soft_delete(self, stream: str, key: str, reason: str, deleted_at: str | None = None) -> bool:
        """Move a live object to the trash; False when there is none (already deleted or never written)."""
        live = object_key(stream, key)
        if not self.store.exists(f"{live}/object.json"):
            return False
        trashed = trash_key(stream, key)
        self.store.remove(trashed)  # an older trashed copy: the move must not nest into it
        self.store.move(live, trashed)
        self.store.put_json(f"{trashed}/{DELETED_MARKER}", {
            "deleted_at": self.now.isoformat(), "reason": reason, "source_deleted_at": deleted_at,
        })
        self.counts["deleted"] += 1
        return True

    def apply_tombstone(self, stream: str, key: str, date_deleted: str | None) -> bool:
        """A tombstone older than the object's last modification is stale (deleted, then restored)."""
        live = self.store.read_json(f"{object_key(stream, key)}/object.json")
        if live is None:
            return False
        modified, deleted = _parse((live.get("record") or {}).get("date_modified")), _parse(date_deleted)
        if modified and deleted and modified > deleted:
            logger.info(f"Kept {stream}/{key}: modified at {modified} after its tombstone ({deleted}).")
            return False
        return self.soft_delete(stream, key, "deleted in iconik", date_deleted)

    def revive(self, stream: str, key: str) -> bool:
        """Bring a trashed object back (its asset was restored); False when nothing is in the trash."""
        trashed = trash_key(stream, key)
        if not self.store.exists(f"{trashed}/object.json"):
            return False
        live = object_key(stream, key)
        if self.store.exists(f"{live}/object.json"):
            self.store.remove(trashed)  # a newer live copy was written meanwhile
            return False
        self.store.remove(f"{trashed}/{DELETED_MARKER}")
        self.store.remove(live)
        self.store.move(trashed, live)
        self.counts["restored"] += 1
        return True

    # ---- whole streams ---------------------------------------------------------------------------------
    def live_keys(self, stream: str) -> list[str]:
        return self.store.children(f"objects/{key_part(stream)}")

    def trashed_keys(self, stream: str) -> list[str]:
        return self.store.children(f"{TRASH}/{key_part(stream)}")

    def sweep(self, stream: str, inventory: set[str], written: Container[str], proof: InventoryProof | None,
              received: int) -> int:
        """Soft-delete the objects of `stream` absent from a proven-complete inventory, except those
        `written` in this sync (an asset created after the inventory was read)."""
        refusal = "the inventory carried no completeness proof" if proof is None else proof.refusal(received)
        if refusal:
            logger.warning(f"Inventory sweep of '{stream}' skipped, nothing deleted: {refusal}.")
            return 0
        for key in self.trashed_keys(stream):
            if key in inventory:
                self.revive(stream, key)
        live = self.live_keys(stream)
        doomed = [k for k in live if k not in inventory and k not in written]
        if live and len(doomed) > self.max_delete_fraction * len(live):
            logger.warning(
                f"Inventory sweep of '{stream}' refused, nothing deleted: it would remove {len(doomed)} of "
                f"{len(live)} objects, above the maximum delete fraction {self.max_delete_fraction:.0%}. "
                "If this is intended (a narrowed filter), raise max_delete_fraction for one sync."
            )
            return 0
        swept = sum(self.soft_delete(stream, key, "absent from a complete inventory") for key in doomed)
        self.counts["swept"] += swept
        logger.info(f"Inventory sweep of '{stream}': {len(live)} objects, {swept} soft-deleted.")
        return swept

    def purge_expired(self) -> int:
        """Hard-delete trash older than the grace period."""
        purged = 0
        for stream_dir in self.store.children(TRASH):  # already key-encoded names
            for key in self.store.children(f"{TRASH}/{stream_dir}"):
                path = f"{TRASH}/{stream_dir}/{key}"
                marker = self.store.read_json(f"{path}/{DELETED_MARKER}") or {}
                deleted_at = _parse(marker.get("deleted_at"))
                if deleted_at is None or self.now - deleted_at >= self.grace:
                    self.store.remove(path)
                    purged += 1
        self.counts["purged"] += purged
        return purged
