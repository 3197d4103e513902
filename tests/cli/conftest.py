"""Fixtures for the retl-build and retl-query command-line tests.

The binaries come from $RETL_BUILD_DIR (default build/release), so the same
tests run against the release and the sanitizer builds.
"""
import csv
import io
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("RETL_BUILD_DIR", ROOT / "build" / "release"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
# Sanitizer builds (RETL_SANITIZE=ON) run every test, but their memory use says
# nothing about a release build's.
SANITIZED = "RETL_SANITIZE:BOOL=ON" in ((BUILD / "CMakeCache.txt").read_text()
                                       if (BUILD / "CMakeCache.txt").exists() else "")
RETL_BUILD = BUILD / "tools" / "retl-build"
RETL_QUERY = BUILD / "tools" / "retl-query"
# The data generator is not built in the sanitizer flavour; any build's will do.
GEN = next((p for p in (BUILD / "bench" / "retl-gen-customers",
                        ROOT / "build" / "release" / "bench" / "retl-gen-customers") if p.exists()),
           BUILD / "bench" / "retl-gen-customers")


class Result:
    def __init__(self, proc):
        # Decoded by hand: text mode would turn "\r\n" inside values into "\n".
        self.code = proc.returncode
        self.out = proc.stdout.decode("utf-8")
        self.err = proc.stderr.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run(*args, expect=0, input=None, timeout=300, binary=RETL_BUILD):
    """Runs retl-build; asserts the exit status unless expect is None."""
    proc = subprocess.run([str(binary), *map(str, args)], capture_output=True,
                          input=None if input is None else input.encode(), timeout=timeout)
    r = Result(proc)
    if expect is not None:
        assert r.code == expect, r
    return r


def query(*args, expect=0, timeout=300):
    """Runs retl-query; asserts the exit status unless expect is None."""
    return run(*args, expect=expect, timeout=timeout, binary=RETL_QUERY)


def write_csv(path, header, rows, compress=None):
    """Writes rows (lists of str or None for NULL) as CSV; None -> empty unquoted field."""
    buf = io.StringIO()
    if header is not None:
        buf.write(",".join(header) + "\n")
    for row in rows:
        fields = []
        for v in row:
            if v is None:
                fields.append("")
            elif v == "" or any(c in v for c in ',"\r\n'):
                fields.append('"' + v.replace('"', '""') + '"')
            else:
                fields.append(v)
        buf.write(",".join(fields) + "\n")
    data = buf.getvalue().encode()
    path = pathlib.Path(path)
    if compress == "gzip":
        import gzip
        data = gzip.compress(data)
    elif compress == "zstd":
        data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    path.write_bytes(data)
    return path


def read_csv(text):
    """Parses dump output: NULL (unquoted empty) -> None, "" -> ''."""
    rows = []
    for line in csv_records(text):
        rows.append(line)
    return rows


def csv_records(text):
    """Minimal RFC 4180 reader that keeps NULL (unquoted empty) apart from ''."""
    records, field, record = [], [], []
    i, n = 0, len(text)
    quoted = False
    was_quoted = False
    while i < n:
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    field.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                field.append(c)
        elif c == '"':
            quoted = was_quoted = True
        elif c == ",":
            record.append("".join(field) if (field or was_quoted) else None)
            field, was_quoted = [], False
        elif c == "\n":
            record.append("".join(field) if (field or was_quoted) else None)
            records.append(record)
            field, record, was_quoted = [], [], False
        else:
            field.append(c)
        i += 1
    if field or record:
        record.append("".join(field) if (field or was_quoted) else None)
        records.append(record)
    return records


def data_files(ds):
    return sorted(p.name for p in (pathlib.Path(ds) / "data").iterdir())


def live_version(ds):
    return int((pathlib.Path(ds) / "CURRENT").read_text())


@pytest.fixture
def ds(tmp_path):
    """An initialised, empty dataset directory."""
    d = tmp_path / "ds"
    run("init", d)
    return d
