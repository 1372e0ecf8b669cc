"""Replay the Dockerfile's install steps in a fresh venv and run `spec` through each image's entry point.

There is no Docker daemon on the machines this project is built on, so this is how the image is
exercised: the builder stage's COPY lines fill a context folder, its `pip install` runs with a fresh
venv's pip (into the venv instead of --prefix), and each connector target's ENTRYPOINT runs `spec` from
an empty folder, with nothing from the source tree on the path.

Usage: python -m tools.image_smoke [--workdir build/image-smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tools.dockerfile import parse

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("source-iconik", "destination-bucket")


def _copy_context(dockerfile, workdir: Path) -> Path:
    context = workdir / "context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for args in dockerfile.stages["builder"].all("COPY"):
        *sources, dest = shlex.split(args)
        for source in sources:
            src = ROOT / source
            target = context / dest / src.name if dest.endswith("/") else context / dest
            if src.is_dir():
                shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)
    return context


def _pip_install_args(dockerfile) -> list[str]:
    runs = [shlex.split(cmd) for cmd in dockerfile.stages["builder"].all("RUN")]
    installs = [cmd for cmd in runs if cmd[:2] == ["pip", "install"]]
    if len(installs) != 1:
        raise SystemExit(f"expected one `pip install` in the builder stage, found {len(installs)}")
    return [arg for arg in installs[0][2:] if not arg.startswith("--prefix")]


def run(workdir: Path) -> dict[str, str]:
    dockerfile = parse(ROOT / "Dockerfile")
    context = _copy_context(dockerfile, workdir)
    env_dir = workdir / "venv"
    shutil.rmtree(env_dir, ignore_errors=True)
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + _pip_install_args(dockerfile), cwd=context, check=True)

    results = {}
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for target in TARGETS:
        entrypoint = dockerfile.stages[target].entrypoint()
        assert entrypoint is not None, f"target {target} has no ENTRYPOINT"
        command = [str(env_dir / "bin" / entrypoint[0]), *entrypoint[1:], "spec"]
        done = subprocess.run(command, cwd=empty, env=clean_env, capture_output=True, text=True, timeout=120)
        specs = [
            json.loads(line) for line in done.stdout.splitlines() if line.startswith("{") and '"SPEC"' in line
        ]
        if done.returncode != 0 or not specs:
            raise SystemExit(f"{target}: `spec` failed (exit {done.returncode})\n{done.stderr[-2000:]}")
        results[target] = specs[0]["spec"]["connectionSpecification"].get("title", "")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "image-smoke")
    args = parser.parse_args()
    for target, title in run(args.workdir.resolve()).items():
        print(f"{target}: spec OK ({title})")


if __name__ == "__main__":
    sys.exit(main())
