"""A small reader for this project's Dockerfile: its stages, ARGs and instructions.

Enough of the Dockerfile grammar for what we write (line continuations, comments, `FROM x AS y`,
exec-form ENTRYPOINT); the static test and `make image-smoke` both read the Dockerfile through it, so
the image and its local replay cannot drift apart.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                values[key] = value
        return values

    def entrypoint(self) -> list[str] | None:
        found = self.all("ENTRYPOINT")
        return json.loads(found[-1]) if found else None


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: dict[str, Stage]

    def resolve(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), m.group(0)), text)

    def lineage(self, name: str) -> list[Stage]:
        """The stage and the stages it is built FROM, outermost first."""
        chain = [self.stages[name]]
        while chain[0].base in self.stages:
            chain.insert(0, self.stages[chain[0].base])
        return chain

    def effective(self, name: str, keyword: str) -> list[str]:
        return [args for stage in self.lineage(name) for args in stage.all(keyword)]

    def effective_user(self, name: str) -> str | None:
        users = self.effective(name, "USER")
        return users[-1] if users else None


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def parse(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            base = parts[0]
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else f"stage{len(stages)}"
            stage = stages[name] = Stage(name=name, base=base)
        elif keyword == "ARG" and stage is None:
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip()
        elif stage is not None:
            stage.instructions.append((keyword, rest.strip()))
    return Dockerfile(args=args, stages=stages)
