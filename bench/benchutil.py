"""Helpers shared by the bench drivers (import_bench.py, build_bench.py, lookup_bench.py)."""
import argparse
import os
import shlex
import subprocess
import sys
import time


def fail(tool, message):
    print(f"{tool}: error: {message}", file=sys.stderr)
    sys.exit(1)


def find_binary(tool, build_dir, relative):
    """The executable build_dir/relative, or exit saying how to build it."""
    path = os.path.join(build_dir, relative)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        fail(tool, f"{path} not found; build first: scripts/build.sh release")
    return path


def tree_bytes(path):
    """Apparent size of all files under path (like du -sb)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def positive_int(text):
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def run_measured(tool, cmd, log_prefix, env=None):
    """Runs cmd to completion; returns (wall seconds, rusage of that process and its children).

    stdout/stderr go to log_prefix.out/.err (a progress line or a warning must not reach our
    table, and a pipe we read could stall the child). Exits with the log tail on failure.
    """
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode != 0:
        how = (f"signal {-proc.returncode}" if proc.returncode < 0
               else f"exit code {proc.returncode}")
        print(f"{tool}: error: command failed ({how}): {shlex.join(map(str, cmd))}", file=sys.stderr)
        for name, path in (("stdout", out_path), ("stderr", err_path)):
            text = tail(path)
            if text.strip():
                print(f"--- last lines of its {name}:\n{text.rstrip()}", file=sys.stderr)
        sys.exit(1)
    return wall, usage


def print_columns(header, rows):
    """Prints a header and rows of strings, each column right-aligned to its widest cell."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
