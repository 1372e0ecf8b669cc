"""The collection tree, read once per sync: collection id -> directory paths, depth, scope.

A collection can sit in several parents, so it can have several paths; the walk is breadth-first from
the roots with a `seen` set per path, so cycles end and depth is bounded by `max_depth`.

Path form: titles joined with `/`, root first. Inside a title `%` is written `%25` and `/` is written
`%2F`, so a path always splits back into its titles (see `split_path`).
"""

from __future__ import annotations

import fnmatch
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


def escape_title(title: str | None) -> str:
    return (title or "").replace("%", "%25").replace("/", "%2F")


def join_path(titles: Iterable[str]) -> str:
    return "/".join(escape_title(t) for t in titles)


def split_path(path: str) -> list[str]:
    return [part.replace("%2F", "/").replace("%25", "%") for part in path.split("/")]


@dataclass
class Node:
    id: str
    title: str
    parents: list[str]
    raw: dict


@dataclass
class CollectionTree:
    nodes: dict[str, Node]
    max_depth: int
    paths: dict[str, list[str]] = field(default_factory=dict)  # id -> sorted distinct paths
    depth: dict[str, int] = field(default_factory=dict)  # id -> shallowest depth (roots are 1)
    ancestors: dict[str, set[str]] = field(default_factory=dict)  # id -> every collection above it

    @classmethod
    def build(cls, collections: Iterable[dict], max_depth: int = 10) -> CollectionTree:
        nodes = {}
        for raw in collections:
            parents = list(raw.get("in_collections") or raw.get("parents") or [])
            if not parents and raw.get("parent_id"):
                parents = [raw["parent_id"]]
            nodes[raw["id"]] = Node(raw["id"], raw.get("title") or "", parents, raw)
        tree = cls(nodes=nodes, max_depth=max_depth)
        tree._walk()
        return tree

    def _walk(self) -> None:
        children: dict[str, list[str]] = {}
        roots = []
        for node in self.nodes.values():
            known_parents = [p for p in node.parents if p in self.nodes]
            if not known_parents:
                roots.append(node.id)
            for parent in known_parents:
                children.setdefault(parent, []).append(node.id)
        paths: dict[str, set[str]] = {}
        # Each queue entry: (collection id, titles from the root, ids on the way: the cycle guard).
        queue = deque((root, (self.nodes[root].title,), frozenset({root})) for root in sorted(roots))
        while queue:
            node_id, titles, on_path = queue.popleft()
            paths.setdefault(node_id, set()).add(join_path(titles))
            self.depth.setdefault(node_id, len(titles))
            self.ancestors.setdefault(node_id, set()).update(on_path - {node_id})
            if len(titles) >= self.max_depth:
                continue
            for child in sorted(children.get(node_id, [])):
                if child not in on_path:
                    queue.append((child, titles + (self.nodes[child].title,), on_path | {child}))
        self.paths = {node_id: sorted(found) for node_id, found in paths.items()}

    def in_scope(self, collection_id: str) -> bool:
        """Reachable from a root within the depth limit."""
        return collection_id in self.paths

    def paths_of(self, collection_ids: Iterable[str]) -> list[str]:
        found: set[str] = set()
        for collection_id in collection_ids or ():
            found.update(self.paths.get(collection_id, ()))
        return sorted(found)

    def under(self, collection_ids: Iterable[str]) -> set[str]:
        """The given collections and every collection below them (within the depth limit)."""
        wanted = set(collection_ids)
        return {cid for cid, above in self.ancestors.items() if cid in wanted or above & wanted}


class PathMatcher:
    """fnmatch globs on directory paths, case-insensitive, compiled once."""

    def __init__(self, patterns: Iterable[str]):
        self.patterns = tuple(patterns)
        self._regexes = [re.compile(fnmatch.translate(p.lower())) for p in self.patterns]

    def __bool__(self) -> bool:
        return bool(self._regexes)

    def matches_any(self, paths: Iterable[str]) -> bool:
        if not self._regexes:
            return True
        return any(regex.match(path.lower()) for path in paths for regex in self._regexes)
