"""Helpers shared by the bench drivers (import_bench.py, lookup_bench.py)."""
import argparse
import os
import sys


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
