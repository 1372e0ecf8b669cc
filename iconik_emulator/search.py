"""The search query language of `POST /API/search/v1/search/` over in-memory documents.

Filters (`operator`, `terms` with `value` / `value_in` / `range` / `exists` / `missing`, nested
`filters`), sort with `_sort` keys (dates as epoch milliseconds, as Elasticsearch returns them),
`search_after`, field projection and facets. Documents are dicts; dotted names reach into them
(`metadata.Keywords`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import lru_cache

DATE_FIELDS = frozenset({
    "date_created", "date_modified", "date_imported", "date_viewed", "date_deleted", "last_archive_restore_date",
})
MAX_WINDOW = 10_000


class SearchError(ValueError):
    """A query iconik would refuse (400)."""


@lru_cache(maxsize=200_000)
def epoch_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def lookup(doc: dict, name: str):
    value = doc
    for part in name.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list):
            value = [item.get(part) for item in value if isinstance(item, dict)]
        else:
            return None
    return value


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in_range(value, bounds: dict, name: str) -> bool:
    if value is None:
        return False
    low, high = bounds.get("min"), bounds.get("max")
    if name in DATE_FIELDS or (isinstance(value, str) and "T" in value):
        try:
            key = epoch_ms(value)
            return (low in (None, "") or key >= epoch_ms(low)) and (high in (None, "") or key <= epoch_ms(high))
        except ValueError as exc:
            raise SearchError(f"Invalid date in range filter for {name}") from exc
    try:
        number = float(value)
        return (low in (None, "") or number >= float(low)) and (high in (None, "") or number <= float(high))
    except (TypeError, ValueError):
        return (low in (None, "") or str(value) >= low) and (high in (None, "") or str(value) <= high)


def term_matches(doc: dict, term: dict) -> bool:
    name = term.get("name")
    if not name:
        raise SearchError("Filter term requires a name")
    values = _as_list(lookup(doc, name))
    if term.get("exists") is True:
        return bool(values)
    if term.get("missing") is True:
        return not values
    if "range" in term and term["range"] is not None:
        return any(_in_range(v, term["range"], name) for v in values)
    if "value_in" in term and term["value_in"] is not None:
        wanted = {_text(v) for v in term["value_in"]}
        return any(_text(v) in wanted for v in values)
    if "value" in term and term["value"] is not None:
        return any(_text(v) == _text(term["value"]) for v in values)
    raise SearchError(f"Filter term {name} has no condition")


def filter_matches(doc: dict, criteria: dict | None) -> bool:
    if not criteria:
        return True
    operator = (criteria.get("operator") or "").upper()
    if operator not in ("AND", "OR"):
        raise SearchError("Filter operator must be AND or OR")
    results = [term_matches(doc, term) for term in criteria.get("terms") or []]
    results += [filter_matches(doc, nested) for nested in criteria.get("filters") or []]
    if not results:
        return True
    return all(results) if operator == "AND" else any(results)


def sort_value(doc: dict, name: str):
    value = lookup(doc, name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is not None and name in DATE_FIELDS:
        return epoch_ms(value)
    return value


def sort_spec(body: dict) -> list[tuple[str, bool]]:
    spec = [(item["name"], (item.get("order") or "asc").lower() == "desc") for item in body.get("sort") or []]
    if not spec:
        spec = [("date_created", True)]
    return spec


class _Key:
    """A comparable sort key that puts missing values last, whatever the direction (as Elasticsearch)."""

    __slots__ = ("parts",)

    def __init__(self, values: list, spec: list[tuple[str, bool]]):
        self.parts = [(v is None, v, desc) for v, (_, desc) in zip(values, spec, strict=False)]

    def __lt__(self, other: _Key) -> bool:
        for (a_missing, a, desc), (b_missing, b, _) in zip(self.parts, other.parts, strict=False):
            if a_missing != b_missing:
                return b_missing
            if a_missing or a == b:
                continue
            try:
                less = a < b
            except TypeError:
                less = str(a) < str(b)
            return not less if desc else less
        return False

    def __eq__(self, other) -> bool:
        return [p[:2] for p in self.parts] == [p[:2] for p in other.parts]


def sort_docs(docs: list[dict], spec: list[tuple[str, bool]]) -> list[tuple[list, dict]]:
    keyed = [([sort_value(doc, name) for name, _ in spec], doc) for doc in docs]
    keyed.sort(key=lambda pair: _Key(pair[0], spec))
    return keyed


def after(keyed: list[tuple[list, dict]], search_after: list, spec: list[tuple[str, bool]]) -> int:
    """Index of the first document strictly after the `search_after` key (binary search)."""
    if len(search_after) != len(spec):
        raise SearchError("search_after must have one value per sort field")
    target = _Key(list(search_after), spec)
    low, high = 0, len(keyed)
    while low < high:
        mid = (low + high) // 2
        key = _Key(keyed[mid][0], spec)
        if target < key:
            high = mid
        else:
            low = mid + 1
    return low


def project(doc: dict, include: list[str] | None, exclude: list[str] | None) -> dict:
    if include:
        top = {name.split(".")[0] for name in include} | {"id", "object_type"}
        doc = {k: v for k, v in doc.items() if k in top}
    if exclude:
        drop = {name for name in exclude if "." not in name}
        doc = {k: v for k, v in doc.items() if k not in drop}
    return doc


def facets(docs: list[dict], names: list[str]) -> dict:
    result = {}
    for name in names:
        counts: Counter = Counter()
        for doc in docs:
            for value in set(map(_text, _as_list(lookup(doc, name)))):
                counts[value] += 1
        result[name] = {"buckets": [{"key": k, "doc_count": c} for k, c in counts.most_common()]}
    return result
