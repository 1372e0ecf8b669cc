"""Run many console-script invocations quickly: import the connectors once, then fork one child per case.

Each child runs exactly what the console script runs (`source_iconik.run:run` or
`destination_bucket.run:run`, as `sys.exit(run())`) with its own argv, stdin, stdout and stderr files, so
the output is what `source-iconik ...` / `destination-bucket ...` would print; only the interpreter's
start-up (about 1.4 s of imports per case) is shared. The table-driven bad-input test uses it for its
fast variant; `SOAK=1` runs every case through the real executables instead.

Input (stdin): a JSON list of {"program", "args", "stdin", "stdout", "stderr"} (file paths).
Output (stdout): a JSON list of exit codes, in the same order.
"""

from __future__ import annotations

import json
import os
import sys
import traceback


def _child(case: dict, entry) -> None:
    stdin = os.open(case["stdin"] or os.devnull, os.O_RDONLY)
    out = os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(stdin, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.argv = [case["program"], *case["args"]]
    code = 0
    try:
        try:
            result = entry()
            code = 0 if result is None else int(result)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException as error:  # what the interpreter does with an uncaught exception
            sys.excepthook(type(error), error, error.__traceback__)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # pragma: no cover - keep the child from returning into the parent's loop
        traceback.print_exc()
        code = 70
    os._exit(code)


def main() -> None:
    from destination_bucket.run import run as destination_run
    from source_iconik.run import run as source_run

    entries = {"source-iconik": source_run, "destination-bucket": destination_run}
    cases = json.load(sys.stdin)
    codes = []
    for case in cases:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(case, entries[case["program"]])
        _, status = os.waitpid(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
    print(json.dumps(codes))


if __name__ == "__main__":
    main()
