"""A deterministic, seeded iconik library: collections, assets, metadata, files.

Everything is generated from one `random.Random(seed)`, so the same seed gives the same ids, titles and
dates. Objects are plain dicts shaped like iconik's API objects (optional fields present as `null`, as
the live API returns them); the routes serialise them as they are.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Generated dates lie between these two instants; live changes use the wall clock, which is later.
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=600)

MEDIA_TYPES = ("video", "image", "audio")
PROXY_FORMATS = {"video": ("MP4", "h264", "video/mp4", ".mp4"), "image": ("JPEG", "jpeg", "image/jpeg", ".jpg"),
                 "audio": ("MP3", "mp3", "audio/mpeg", ".mp3")}
ORIGINAL_EXT = {"video": ".mov", "image": ".tif", "audio": ".wav"}

# Titles that exercise path building: separators, dot segments, unicode, right-to-left text, length.
AWKWARD_TITLES = (
    "AC/DC Live", "../escape attempt", "Ünïcødé — 日本語のタイトル", "مرحبا بالعالم", "100% raw", "a" * 300,
    "emoji 🎬 reel", "  leading and trailing  ",
)
WORDS = ("Kitsch", "UGC Footage", "Talent", "Before", "After", "Mature", "Campaign", "Spring", "Summer", "B-Roll",
         "Interviews", "Archive", "Press", "Social", "Teaser", "Final", "Raw", "Selects", "Stills", "Music")
CLIENTS = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries")
TALENT = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Hedy Lamarr", "Tim Berners-Lee")
KEYWORDS = ("sunset", "beach", "city", "night", "portrait", "product", "drone", "slow motion", "crowd", "studio")


@dataclass(frozen=True)
class LibraryConfig:
    """What to generate. Sizes only change the shape, never the rules."""

    assets: int = 200
    seed: int = 7
    collection_depth: int = 12  # the deep chain goes this many levels below a root
    root_collections: int = 3
    branch_collections: int = 24  # extra collections spread over the tree
    views: int = 3  # metadata views (at least 3; more views repeat the field families)
    media_size: int = 4096  # bytes of each generated media file
    admin: bool = True  # whether the default token's user is an admin


def iso(moment: datetime) -> str:
    """iconik's timestamp form: microseconds and an explicit offset."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Library:
    config: LibraryConfig
    rng: random.Random
    user: dict
    collections: dict[str, dict] = field(default_factory=dict)
    assets: dict[str, dict] = field(default_factory=dict)
    views: list[dict] = field(default_factory=list)
    fields: dict[str, dict] = field(default_factory=dict)
    # (asset_id, view_id) -> {field_name: [field value dicts]}
    values: dict[tuple[str, str], dict[str, list[dict]]] = field(default_factory=dict)
    proxies: dict[str, list[dict]] = field(default_factory=dict)
    formats: dict[str, list[dict]] = field(default_factory=dict)
    file_sets: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, list[dict]] = field(default_factory=dict)
    keyframes: dict[str, list[dict]] = field(default_factory=dict)

    # ---- ids and dates -------------------------------------------------------------------------------
    def new_id(self) -> str:
        """A time-based (v1-shaped) UUID drawn from the seeded generator, as iconik's ids are."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=1))

    def random_date(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.rng.randrange(int(SPAN.total_seconds() * 1e6)))

    # ---- graph helpers ------------------------------------------------------------------------------
    def collection_ancestors(self, collection_id: str) -> set[str]:
        """Every collection above this one, through every parent (cycle-safe)."""
        seen: set[str] = set()
        stack = list(self.collections[collection_id]["in_collections"] or [])
        while stack:
            parent = stack.pop()
            if parent in seen or parent not in self.collections:
                continue
            seen.add(parent)
            stack.extend(self.collections[parent]["in_collections"] or [])
        return seen

    def asset_ancestors(self, asset_id: str) -> list[str]:
        direct = [c for c in self.assets[asset_id]["in_collections"] if c in self.collections]
        found = set(direct)
        for collection_id in direct:
            found |= self.collection_ancestors(collection_id)
        return sorted(found)

    def flattened_metadata(self, asset_id: str, view_ids: list[str] | None = None) -> dict[str, list]:
        """Metadata values as search documents carry them: field name -> list of plain values."""
        flat: dict[str, list] = {}
        for view in self.views:
            if view_ids is not None and view["id"] not in view_ids:
                continue
            for name, items in self.values.get((asset_id, view["id"]), {}).items():
                if items:
                    flat[name] = [item["value"] for item in items]
        return flat


def generate(config: LibraryConfig) -> Library:
    rng = random.Random(config.seed)
    lib = Library(config=config, rng=rng, user={})
    lib.user = _user(lib)
    _generate_collections(lib)
    _generate_metadata_model(lib)
    for n in range(config.assets):
        add_generated_asset(lib, n)
    return lib


def _user(lib: Library) -> dict:
    created = iso(EPOCH - timedelta(days=30))
    return {
        "id": lib.new_id(), "email": "integration@example.com", "first_name": "Integration", "last_name": "Bot",
        "type": "BROWSE_API_ONLY", "status": "ACTIVE", "is_admin": lib.config.admin, "is_super_admin": False,
        "groups": [], "primary_group": None, "system_domain_id": lib.new_id(), "system_domains": [],
        "app_id": None, "date_created": created, "date_modified": created, "last_web_login": None,
        "photo": None, "photo_small": None, "photo_big": None, "phone": None, "metadata": None,
    }


def _collection(lib: Library, title: str, parents: list[str]) -> dict:
    created = lib.random_date()
    collection = {
        "id": lib.new_id(), "title": title, "status": "ACTIVE", "is_root": not parents,
        "parent_id": parents[0] if parents else None, "parents": list(parents), "in_collections": list(parents),
        "category": None, "external_id": None, "storage_id": None, "project_id": None, "custom_keyframe": None,
        "custom_poster": None, "keyframe_asset_ids": [], "keyframes": [], "custom_order_status": None,
        "created_by_user": lib.user["id"], "deleted_by_user": None, "date_created": iso(created),
        "date_modified": iso(created + timedelta(hours=lib.rng.randrange(1, 500))), "date_deleted": None,
        "favoured": False, "permissions": ["read", "write"], "position": None, "object_type": "collections",
        "metadata": {},
    }
    lib.collections[collection["id"]] = collection
    return collection


def _generate_collections(lib: Library) -> None:
    cfg, rng = lib.config, lib.rng
    roots = [_collection(lib, title, []) for title in ("Kitsch", "Brand Library", "Archive 1999/2000")][
        : max(1, cfg.root_collections)
    ]
    # A deep chain under the first root, deeper than the default depth limit of 10.
    parent = roots[0]
    for level in range(1, cfg.collection_depth + 1):
        parent = _collection(lib, f"{level:02d} {WORDS[level % len(WORDS)]}", [parent["id"]])
    # Branches spread over the tree, some with awkward titles.
    pool = list(lib.collections.values())
    for n in range(cfg.branch_collections):
        title = AWKWARD_TITLES[n] if n < len(AWKWARD_TITLES) and n % 3 == 1 else f"{n:02d} {rng.choice(WORDS)}"
        created = _collection(lib, title, [rng.choice(pool[: max(4, len(pool) // 2)])["id"]])
        pool.append(created)
    # One collection reachable from two parents.
    shared = _collection(lib, "Shared Selects", [roots[1]["id"], roots[-1]["id"]])
    shared["in_collections"] = shared["parents"] = [roots[1]["id"], roots[-1]["id"]]


def _generate_metadata_model(lib: Library) -> None:
    families = [
        ("Editorial", [("Keywords", "tag_cloud", True), ("Description", "text", False),
                       ("Rating", "integer", False), ("ShootDate", "date", False)]),
        ("Client", [("ClientName", "drop_down", False), ("TalentName", "string", True),
                    ("SKUs", "string_exact", True), ("Approved", "boolean", False)]),
        ("Rights", [("LicenseURL", "url", False), ("UsageRegion", "drop_down", True),
                    ("ExpiryDate", "datetime", False)]),
        ("Technical", [("CameraModel", "string", False), ("FrameRate", "float", False)]),
        ("Unused", [("LegacyCode", "string", False)]),  # a view that no asset has values in
    ]
    count = max(3, lib.config.views)
    for n in range(count):
        name, field_specs = families[n % len(families)]
        suffix = "" if n < len(families) else f" {n // len(families) + 1}"
        created = iso(lib.random_date())
        view_fields = []
        for field_name, field_type, multi in field_specs:
            key = field_name if not suffix else f"{field_name}{n // len(families) + 1}"
            if key not in lib.fields:
                options = None
                if field_type == "drop_down":
                    choices = CLIENTS if field_name == "ClientName" else ("EU", "US", "APAC", "Worldwide")
                    options = [{"label": c, "value": c} for c in choices]
                lib.fields[key] = {
                    "name": key, "label": field_name if lib.rng.random() > 0.2 else None, "field_type": field_type,
                    "description": None, "options": options, "multi": multi, "required": False,
                    "read_only": False, "auto_set": False, "hide_if_not_set": False, "is_block_field": False,
                    "is_warning_field": False, "representative": False, "sortable": True, "use_as_facet": multi,
                    "min_value": None, "max_value": None, "external_id": None, "mapped_field_name": None,
                    "source_url": None, "date_created": created, "date_modified": created,
                }
            view_fields.append(key)
        lib.views.append({
            "id": lib.new_id(), "name": f"{name}{suffix}", "description": None if n % 2 else f"{name} fields",
            "date_created": created, "date_modified": created, "field_names": ["__separator__", *view_fields],
        })


def _field_values(lib: Library, field_def: dict) -> list[dict]:
    rng, kind = lib.rng, field_def["field_type"]
    name = field_def["name"]
    if kind == "tag_cloud":
        return [{"value": k, "score": 1} for k in rng.sample(KEYWORDS, rng.randint(1, 4))]
    if kind == "drop_down":
        options = [o["value"] for o in field_def["options"] or []]
        picks = rng.sample(options, rng.randint(1, 2)) if field_def["multi"] else [rng.choice(options)]
        return [{"value": p, "label": p} for p in picks]
    if kind == "integer":
        return [{"value": rng.randint(1, 5)}]
    if kind == "float":
        return [{"value": rng.choice((23.976, 25.0, 29.97, 59.94))}]
    if kind == "boolean":
        return [{"value": rng.random() > 0.5}]
    if kind == "date":
        return [{"value": lib.random_date().date().isoformat()}]
    if kind == "datetime":
        return [{"value": iso(lib.random_date())}]
    if kind == "url":
        return [{"value": f"https://licenses.example.com/{rng.randrange(10**6)}", "label": "License"}]
    if name.startswith("TalentName"):
        return [{"value": t} for t in rng.sample(TALENT, rng.randint(1, 2))]
    if name.startswith("SKUs"):
        return [{"value": f"SKU-{rng.randrange(10**5):05d}"} for _ in range(rng.randint(1, 3))]
    return [{"value": f"{rng.choice(WORDS)} {rng.randrange(1000)}"}]


def _asset_title(lib: Library, n: int) -> str:
    if n % 17 == 3:
        return AWKWARD_TITLES[(n // 17) % len(AWKWARD_TITLES)]
    return f"{lib.rng.choice(WORDS)} {lib.rng.choice(WORDS)} {n:05d}"


def add_generated_asset(lib: Library, n: int, title: str | None = None, collection_ids: list[str] | None = None,
                        media_type: str | None = None, created: datetime | None = None) -> dict:
    rng = lib.rng
    created = created or lib.random_date()
    modified = created + timedelta(seconds=rng.randrange(0, 90 * 86400))
    media_type = media_type or rng.choice(MEDIA_TYPES)
    if collection_ids is None:
        pool = list(lib.collections)
        collection_ids = rng.sample(pool, 1 if rng.random() < 0.75 else min(2, len(pool)))
    asset_id = lib.new_id()
    asset = {
        "id": asset_id, "title": title if title is not None else _asset_title(lib, n), "type": "ASSET",
        "status": "ACTIVE", "media_type": media_type, "archive_status": rng.choice(("NOT_ARCHIVED", None)),
        "analyze_status": "N/A", "face_recognition_status": "N/A", "is_online": True, "is_blocked": False,
        "favoured": False, "has_unconfirmed_persons": False, "category": rng.choice((None, None, "Footage")),
        "external_id": None if rng.random() < 0.8 else f"EXT-{n}", "external_link": None, "site_name": None,
        "warning": None, "custom_keyframe": None, "custom_poster": None, "created_by_user": lib.user["id"],
        "updated_by_user": lib.user["id"], "deleted_by_user": None, "date_created": iso(created),
        "date_modified": iso(modified), "date_imported": iso(created), "date_viewed": None, "date_deleted": None,
        "last_archive_restore_date": None, "in_collections": list(collection_ids),
        "duration_milliseconds": rng.randrange(1000, 600000) if media_type != "image" else None,
        "versions": [{
            "id": lib.new_id(), "version_number": 1, "status": "ACTIVE", "analyze_status": "N/A",
            "archive_status": "NOT_ARCHIVED", "face_recognition_status": "N/A", "transcribe_status": "N/A",
            "transcribed_languages": [], "is_online": True, "has_unconfirmed_persons": False, "person_ids": [],
            "created_by_user": lib.user["id"], "created_by_user_info": None, "date_created": iso(created),
        }],
        "person_ids": [], "original_asset_id": None, "original_version_id": None, "original_segment_id": None,
        "time_start_milliseconds": None, "time_end_milliseconds": None,
    }
    lib.assets[asset_id] = asset
    # Metadata: most assets have values in most views; the last family view ("Unused") never does.
    for view in lib.views:
        if view["name"].startswith("Unused") or rng.random() < 0.25:
            continue
        values = {}
        for name in view["field_names"]:
            if name == "__separator__" or rng.random() < 0.15:
                continue
            values[name] = _field_values(lib, lib.fields[name])
        if values:
            lib.values[(asset_id, view["id"])] = values
    _generate_files(lib, asset, created)
    return asset


def _generate_files(lib: Library, asset: dict, created: datetime) -> None:
    rng, asset_id, media = lib.rng, asset["id"], asset["media_type"]
    roll = rng.random()
    has_original = roll >= 0.05  # 5 %: no files at all
    has_proxy = roll >= 0.12  # 7 %: only an original
    size = lib.config.media_size
    stem = f"asset_{asset_id[:8]}"
    version_id = asset["versions"][0]["id"]
    when = iso(created)
    if has_proxy:
        fmt_name, codec, _, ext = PROXY_FORMATS[media]
        lib.proxies[asset_id] = [{
            "id": lib.new_id(), "asset_id": asset_id, "version_id": version_id, "name": f"{stem}_proxy{ext}",
            "filename": f"{stem}_proxy{ext}", "format": fmt_name, "codec": codec,
            "bit_rate": 2_000_000 if media == "video" else None, "audio_bitrate": 128_000 if media != "image" else None,
            "frame_rate": "25" if media == "video" else None, "is_drop_frame": False, "start_time_code": None,
            "resolution": {"width": 1280, "height": 720} if media != "audio" else None, "rotation": 0, "size": size,
            "status": "CLOSED", "storage_id": None, "storage_method": "GCS", "is_public": False,
            "date_created": when, "date_modified": when,
        }]
    if has_original:
        format_id, file_set_id = lib.new_id(), lib.new_id()
        ext = ORIGINAL_EXT[media]
        original_name = f"{asset['title'][:40].replace('/', '_')}{ext}"
        lib.formats[asset_id] = [{
            "id": format_id, "asset_id": asset_id, "version_id": version_id, "name": "ORIGINAL", "status": "ACTIVE",
            "archive_status": "NOT_ARCHIVED", "is_online": True, "storage_methods": ["FILE"], "components": [],
            "metadata": [{"internet_media_type": {"video": "video/quicktime", "image": "image/tiff",
                                                  "audio": "audio/wav"}[media]}],
            "user_id": lib.user["id"], "warnings": [], "date_created": when, "date_modified": when,
            "date_deleted": None, "deleted_by_user": None,
        }]
        lib.file_sets[asset_id] = [{
            "id": file_set_id, "asset_id": asset_id, "version_id": version_id, "format_id": format_id,
            "storage_id": None, "original_storage_id": None, "name": original_name, "base_dir": "/media",
            "component_ids": [], "is_archive": False, "archive_file_set_id": None, "status": "ACTIVE",
            "file_count": 1, "date_created": when, "date_modified": when, "date_deleted": None,
            "deleted_by_user": None,
        }]
        lib.files[asset_id] = [{
            "id": lib.new_id(), "asset_id": asset_id, "version_id": version_id, "format_id": format_id,
            "file_set_id": file_set_id, "storage_id": None, "storage_method": "FILE", "name": original_name,
            "original_name": original_name, "directory_path": "media", "size": size * 2, "checksum": None,
            "type": "FILE", "status": "CLOSED", "file_set_status": "ACTIVE", "format_status": "ACTIVE",
            "parent_id": None, "user_id": lib.user["id"], "system_domain_id": lib.user["system_domain_id"],
            "file_date_created": when, "file_date_modified": when, "date_created": when, "date_modified": when,
        }]
    if has_proxy or has_original:
        lib.keyframes[asset_id] = [{
            "id": lib.new_id(), "asset_id": asset_id, "collection_id": None, "version_id": version_id,
            "type": "KEYFRAME", "is_custom_keyframe": False, "name": f"{stem}_keyframe.jpg",
            "filename": f"{stem}_keyframe.jpg", "format": "JPEG", "resolution": {"width": 640, "height": 360},
            "rotation": 0, "size": 1024, "status": "CLOSED", "storage_id": None, "storage_method": "GCS",
            "time_code": None, "is_public": False,
        }]
