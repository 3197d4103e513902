#!/usr/bin/env python3
"""Build benchmark: the reference `customers` table (WORKLOAD.md) built from CSV and from Parquet
by rETL DB and by its peers, in the same run.

Per system and input, --runs times, each into a fresh target, one process per build:

  retl      retl-build import DIR --table customers --input FILE --primary-key customer_id
                --partition-by region --index email        (primary key and email index included)
  retl-limited  the same with --memory-limit SIZE (given by --memory-limit; added to the systems
                when it is): the input is sorted in runs spilled to disk and merged
  duckdb    CREATE TABLE customers AS SELECT * FROM read_csv(FILE) / read_parquet(FILE), then
                close (checkpoint); all cores (DuckDB's default); no key, no index
  sqlite    sqlite3 shell: CREATE TABLE (customer_id INTEGER PRIMARY KEY, ...); BEGIN;
                .import --csv --skip 1 FILE customers (prepared INSERTs); CREATE INDEX on email;
                COMMIT                                     (CSV only)
  postgres  a server of our own on 127.0.0.1 (initdb + pg_ctl in the work directory, stopped at
                the end by its PID): CREATE TABLE with PRIMARY KEY; COPY FROM FILE (server side,
                CSV HEADER); CREATE INDEX on email          (CSV only)

Reported per system and input: median / min / max wall seconds, rows per second at the median,
and peak memory. Wall time is the whole build process, start to reaped (time.perf_counter()),
except for DuckDB, where it is connect + load + close inside the process, so Python's start-up
is not counted against it. Peak memory is the build process's peak RSS from /usr/bin/time (for
DuckDB that includes the Python interpreter, about 30 MiB); for PostgreSQL it is the peak RSS
(VmHWM) of the server backend that ran the COPY. Inputs are read
from the page cache (just written); nothing drops caches. Ratios are rETL time / peer time from
the same run: below 1 means rETL DB is faster.

The Parquet file is written from the generated CSV by pyarrow (zstd, pyarrow's default row
groups), with the WORKLOAD.md types.

Usage: bench/build_bench.py [--build-dir build/release] [--rows 2000000] [--runs 3]
                            [--systems retl,duckdb,sqlite,postgres] [--memory-limit SIZE]
                            [--work-dir DIR] [--keep] [--json FILE]
Needs pyarrow and duckdb (pip-installed into the running Python if missing), sqlite3, and
PostgreSQL's initdb / pg_ctl / psql (found on PATH or under /usr/lib/postgresql/*/bin).
"""

import argparse
import glob
import json
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchutil  # noqa: E402
from benchutil import positive_int  # noqa: E402

TOOL = "build_bench"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1024 * 1024

COLUMNS = [
    ("customer_id", "BIGINT", "int64"), ("email", "TEXT", "string"), ("country", "TEXT", "string"),
    ("region", "TEXT", "string"), ("plan", "TEXT", "string"), ("signup_date", "DATE", "date32"),
    ("last_seen", "TIMESTAMP", "timestamp"), ("ltv", "DOUBLE PRECISION", "float64"),
    ("orders", "INTEGER", "int32"), ("churn_score", "DOUBLE PRECISION", "float64"),
    ("segment", "INTEGER", "int32"), ("is_active", "BOOLEAN", "bool_"),
]


def fail(message):
    benchutil.fail(TOOL, message)


def note(message):
    print(f"[{TOOL}] {message}", file=sys.stderr, flush=True)


def ensure_module(name, package):
    """Installs `package` from PyPI unless this Python can import `name` (checked in a child,
    so that this process stays small)."""
    if subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True).returncode == 0:
        return
    note(f"installing {package} from PyPI (pip install {package})")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"pip install {package} failed:\n" + r.stderr[-2000:])


PARQUET_SCRIPT = """
import sys, pyarrow as pa, pyarrow.csv as pa_csv, pyarrow.parquet as pq
types = {name: (pa.timestamp("us") if t == "timestamp" else getattr(pa, t)())
         for name, t in (c.split(":") for c in sys.argv[3].split(","))}
table = pa_csv.read_csv(sys.argv[1], convert_options=pa_csv.ConvertOptions(column_types=types))
pq.write_table(table, sys.argv[2], compression="zstd")
"""


def write_parquet(csv_path, parquet_path, work):
    ensure_module("pyarrow", "pyarrow")
    types = ",".join(f"{name}:{t}" for name, _, t in COLUMNS)
    benchutil.run_measured(TOOL, [sys.executable, "-c", PARQUET_SCRIPT, csv_path, parquet_path,
                                  types], os.path.join(work, "parquet"))


def pg_binary(name):
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    fail(f"{name} not found (install PostgreSQL: apt-get install postgresql), "
         f"or leave postgres out of --systems")


class Postgres:
    """A throw-away server on 127.0.0.1, run as the postgres user when we are root."""

    def __init__(self, work):
        self.data = os.path.join(work, "pgdata")
        self.log = os.path.join(work, "pg.log")
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                fail("running as root needs a 'postgres' user for the PostgreSQL server")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.pid = None

    def as_user(self, cmd):
        return ["runuser", "-u", "postgres", "--"] + cmd if self.user else cmd

    def start(self):
        os.makedirs(self.data)
        if self.user:
            os.chown(self.data, self.user.pw_uid, self.user.pw_gid)
            open(self.log, "w").close()
            os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        subprocess.run(self.as_user([pg_binary("initdb"), "-D", self.data, "-U", "postgres",
                                     "--auth=trust", "--no-sync"]), check=True,
                       capture_output=True)
        subprocess.run(self.as_user([pg_binary("pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                                     "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} "
                                           f"-c unix_socket_directories='' -c fsync=on",
                                     "start"]), check=True, capture_output=True)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def stop(self):
        if self.pid is not None:
            subprocess.run(self.as_user([pg_binary("pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                                         "stop"]), capture_output=True)
            try:  # still there: stop it by its PID
                os.kill(self.pid, 15)
            except ProcessLookupError:
                pass
            self.pid = None

    def psql(self):
        return [pg_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", "postgres"]


def sql_columns(primary_key):
    cols = []
    for name, sql_type, _ in COLUMNS:
        if name == "customer_id":
            sql_type = "INTEGER PRIMARY KEY" if primary_key == "sqlite" else "BIGINT PRIMARY KEY"
        cols.append(f"{name} {sql_type}")
    return ", ".join(cols)


DUCKDB_SCRIPT = """
import sys, time, duckdb
path, source = sys.argv[1], sys.argv[2]
start = time.perf_counter()
con = duckdb.connect(path)
con.execute(f"CREATE TABLE customers AS SELECT * FROM {source}")
con.close()
print(time.perf_counter() - start)
"""


def measured(cmd, log):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS bytes of cmd).

    Through time(1), not our own rusage: Linux carries a parent's peak RSS over into the
    children it starts, so ours would add this Python process's own.
    """
    wall, _ = benchutil.run_measured(TOOL, ["/usr/bin/time", "-f", "%M", "-o", log + ".time"] + cmd,
                                     log)
    with open(log + ".time") as f:
        return wall, int(f.read().split()[-1]) * 1024


def build_once(system, fmt, inputs, work, k, tools, pg, memory_limit=None):
    """One build; returns (seconds, peak memory bytes, size of what it built)."""
    log = os.path.join(work, f"{system}-{fmt}-{k}")
    target = os.path.join(work, f"{system}-{fmt}-{k}")
    src = inputs[fmt]
    if system in ("retl", "retl-limited"):
        subprocess.run([tools["retl-build"], "init", target], check=True, capture_output=True)
        limit = ["--memory-limit", memory_limit] if system == "retl-limited" else []
        wall, peak = measured([
            tools["retl-build"], "import", target, "--table", "customers", "--input", src,
            "--primary-key", "customer_id", "--partition-by", "region", "--index", "email",
            "--no-progress", *limit], log)
        return wall, peak, benchutil.tree_bytes(target)
    if system == "duckdb":
        target += ".duckdb"
        source = f"read_csv('{src}')" if fmt == "csv" else f"read_parquet('{src}')"
        _, peak = measured([sys.executable, "-c", DUCKDB_SCRIPT, target, source], log)
        with open(log + ".out") as f:
            seconds = float(f.read().split()[-1])
        return seconds, peak, os.path.getsize(target)
    if system == "sqlite":
        target += ".sqlite"
        script = (f"CREATE TABLE customers ({sql_columns('sqlite')});\nBEGIN;\n"
                  f".import --csv --skip 1 {src} customers\n"
                  f"CREATE INDEX customers_email ON customers(email);\nCOMMIT;\n")
        with open(log + ".sql", "w") as f:
            f.write(script)
        wall, peak = measured(["sqlite3", "-bail", target, f".read {log}.sql"], log)
        return wall, peak, os.path.getsize(target)
    if system == "postgres":
        table = f"customers_{k}"
        wall, _ = benchutil.run_measured(TOOL, pg.psql() + [
            "-c", f"CREATE TABLE {table} ({sql_columns('postgres')})",
            "-c", f"COPY {table} FROM '{src}' (FORMAT csv, HEADER true)",
            "-c", f"CREATE INDEX {table}_email ON {table}(email)",
            "-At", "-c", "SELECT pg_read_file('/proc/self/status')",
            "-c", f"SELECT pg_total_relation_size('{table}')"], log)
        with open(log + ".out") as f:
            text = f.read()
        hwm = next((int(line.split()[1]) * 1024 for line in text.splitlines()
                    if line.startswith("VmHWM:")), 0)
        size = int(text.strip().splitlines()[-1])
        subprocess.run(pg.psql() + ["-c", f"DROP TABLE {table}"], check=True, capture_output=True)
        return wall, hwm, size
    raise ValueError(system)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--rows", type=positive_int, default=2_000_000)
    parser.add_argument("--runs", type=positive_int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--systems", default="retl,duckdb,sqlite,postgres",
                        help="comma-separated: retl, duckdb, sqlite, postgres")
    parser.add_argument("--memory-limit", metavar="SIZE",
                        help="also build with retl-build import --memory-limit SIZE (as 512MiB)")
    parser.add_argument("--work-dir", help="default: a new temporary directory, removed "
                                           "afterwards unless --keep")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    for s in systems:
        if s not in ("retl", "duckdb", "sqlite", "postgres"):
            fail(f"unknown system '{s}' in --systems")
    if args.memory_limit:
        systems.insert(systems.index("retl") + 1 if "retl" in systems else 0, "retl-limited")
    build_dir = os.path.abspath(args.build_dir)
    tools = {"retl-build": benchutil.find_binary(TOOL, build_dir, "tools/retl-build"),
             "gen": benchutil.find_binary(TOOL, build_dir, "bench/retl-gen-customers")}
    if "duckdb" in systems:
        ensure_module("duckdb", "duckdb")
    if "sqlite" in systems and shutil.which("sqlite3") is None:
        fail("sqlite3 not found (apt-get install sqlite3), or leave sqlite out of --systems")

    work = os.path.abspath(args.work_dir) if args.work_dir else tempfile.mkdtemp(
        prefix="retl-build-bench-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)  # the PostgreSQL server reads the CSV from here
    pg = None
    try:
        inputs = {"csv": os.path.join(work, "customers.csv"),
                  "parquet": os.path.join(work, "customers.parquet")}
        benchutil.run_measured(TOOL, [tools["gen"], "--rows", str(args.rows), "--seed",
                                      str(args.seed), "--output", inputs["csv"]],
                               os.path.join(work, "gen"))
        os.chmod(inputs["csv"], 0o644)
        write_parquet(inputs["csv"], inputs["parquet"], work)
        note(f"{args.rows:,} rows: CSV {os.path.getsize(inputs['csv']) / MIB:.1f} MiB, "
             f"Parquet {os.path.getsize(inputs['parquet']) / MIB:.1f} MiB in {work}")
        if "postgres" in systems:
            pg = Postgres(work)
            pg.start()
        results = []
        for fmt in ("csv", "parquet"):
            for system in systems:
                if fmt == "parquet" and system in ("sqlite", "postgres"):
                    continue
                secs, mems, size = [], [], 0
                for k in range(1, args.runs + 1):
                    s, m, size = build_once(system, fmt, inputs, work, k, tools, pg, args.memory_limit)
                    secs.append(s)
                    mems.append(m)
                    note(f"{system} {fmt} run {k}: {s:.3f} s, peak {m / MIB:.0f} MiB")
                    for leftover in glob.glob(os.path.join(work, f"{system}-{fmt}-{k}*")):
                        if not leftover.endswith((".out", ".err", ".sql")):
                            if os.path.isdir(leftover):
                                shutil.rmtree(leftover)
                            else:
                                os.remove(leftover)
                median = statistics.median(secs)
                results.append({"system": system, "format": fmt, "seconds_median": median,
                                "seconds_min": min(secs), "seconds_max": max(secs),
                                "seconds_all": secs, "rows_per_second": args.rows / median,
                                "peak_memory_bytes": max(mems), "size_bytes": size})
        print_table(results, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"rows": args.rows, "runs": args.runs, "results": results}, f, indent=2)
                f.write("\n")
    finally:
        if pg is not None:
            pg.stop()
        if not args.keep and not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            note(f"kept: {work}")


def print_table(results, args):
    print(f"Build of customers ({args.rows:,} rows), median of {args.runs} run(s); "
          f"ratio = rETL time / this system's time for the same input")
    header = ["input", "system", "median s", "min s", "max s", "rows/s", "peak MiB", "size MiB",
              "rETL/this"]
    rows = []
    for r in results:
        retl = next((x for x in results if x["system"] == "retl" and x["format"] == r["format"]),
                    None)
        ratio = f"{retl['seconds_median'] / r['seconds_median']:.2f}" if retl and r["system"] != "retl-limited" else "-"
        name = f"retl --memory-limit {args.memory_limit}" if r["system"] == "retl-limited" else r["system"]
        rows.append([r["format"], name, f"{r['seconds_median']:.3f}",
                     f"{r['seconds_min']:.3f}", f"{r['seconds_max']:.3f}",
                     f"{r['rows_per_second']:,.0f}", f"{r['peak_memory_bytes'] / MIB:.0f}",
                     f"{r['size_bytes'] / MIB:.1f}", ratio])
    benchutil.print_columns(header, rows)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
