"""python -m bench.peak OUT_FILE COMMAND...: run COMMAND (stdin/stdout inherited), then write its peak RSS.

Why a wrapper: a child forked straight from the benchmark process (which holds the emulator's library)
inherits that process's high-water RSS in `ru_maxrss`. Forked from this small process instead, the figure
is the command's own. OUT_FILE gets `max_rss_kib user_seconds system_seconds exit_code`.
"""

import os
import subprocess
import sys


def main() -> None:
    out, command = sys.argv[1], sys.argv[2:]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as handle:
        handle.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime} {code}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
