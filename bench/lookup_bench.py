#!/usr/bin/python3
"""Lookup benchmark: point lookups of the reference `customers` table, rETL DB against SQLite.

Steps (bench/README.md, "Lookup benchmark", has the details and the fairness choices):

  1. retl-gen-customers writes the reference CSV (WORKLOAD.md) and the 100,000 lookup keys;
  2. retl-build imports it twice, each into a fresh dataset: without secondary indexes and
     with `--index email` (import time and size of both: the difference is what the index costs);
  3. Python's sqlite3 module loads the same CSV into a SQLite database (customer_id INTEGER
     PRIMARY KEY, a UNIQUE index on email, ANALYZE, VACUUM);
  4. an emails file is written from the keys: the email of the key's row for each existing
     key, an email that no row has for each absent key (so 10% misses, like the keys);
  5. retl-lookup-bench runs --runs times (alternating which system goes first); each run
     measures both systems in one process and exits non-zero if they disagree.

Prints a table of min / median / max per metric and system with the ratio of the medians
(rETL / SQLite), the resident set after opening, the dataset size, the import times, and the
targets of the lookup issue marked PASS or FAIL.

Generated files live in --workdir (default build/bench-lookup) and are reused by later runs
when their parameters match (a dataset is re-imported when retl-build changed); --fresh
rebuilds everything.

Usage: bench/lookup_bench.py [--build-dir build/release] [--rows 2000000] [--runs 5]
                             [--workdir DIR] [--fresh] [--json FILE]
Standard library only.
"""

import argparse
import csv
import datetime
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import positive_int, tree_bytes  # noqa: E402
import benchutil  # noqa: E402


def fail(message):
    benchutil.fail("lookup_bench", message)


def find_binary(build_dir, relative):
    return benchutil.find_binary("lookup_bench", build_dir, relative)


MIB = 1024 * 1024
TABLE = "customers"
EMAIL_INDEX = "email"  # retl-build names an index after its column(s)
STAMP_VERSION = 1      # bump when what a stamp describes changes meaning

# WORKLOAD.md's columns with their SQLite declarations: INTEGER PRIMARY KEY makes
# customer_id the rowid; DATE and TIMESTAMP hold ISO-8601 text (SQLite's own date
# format); BOOLEAN holds 0/1.
SQLITE_COLUMNS = [
    ("customer_id", "INTEGER PRIMARY KEY"),
    ("email", "TEXT NOT NULL"),
    ("country", "TEXT"),
    ("region", "TEXT"),
    ("plan", "TEXT"),
    ("signup_date", "DATE"),
    ("last_seen", "TIMESTAMP"),
    ("ltv", "REAL"),
    ("orders", "INTEGER"),
    ("churn_score", "REAL"),
    ("segment", "INTEGER"),
    ("is_active", "BOOLEAN"),
]

# The rows the lookup issue's targets are set for (WORKLOAD.md's main size).
MAIN_ROWS = 2_000_000


def note(message):
    print(message, file=sys.stderr, flush=True)


def tail(text, lines=20):
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run(cmd, capture=False):
    """Runs cmd; returns (wall seconds, stdout text). Exits with its output on failure."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace")
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        how = (f"signal {-proc.returncode}" if proc.returncode < 0
               else f"exit code {proc.returncode}")
        print(f"lookup_bench: error: command failed ({how}): {shlex.join(cmd)}", file=sys.stderr)
        for name, text in (("stdout", "" if capture else proc.stdout), ("stderr", proc.stderr)):
            if text.strip():
                print(f"--- last lines of its {name}:\n{tail(text)}", file=sys.stderr)
        sys.exit(1)
    return wall, proc.stdout


def read_stamp(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_stamp(path, stamp):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(stamp, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def binary_id(path):
    st = os.stat(path)
    return {"path": path, "mtime_ns": st.st_mtime_ns, "size": st.st_size}


# ---------------------------------------------------------------- inputs

def generate(args, generator, work):
    """The reference CSV and keys; reused when rows and seed match."""
    csv_path = os.path.join(work, "customers.csv")
    keys_path = os.path.join(work, "keys.txt")
    stamp_path = os.path.join(work, "customers.stamp.json")
    want = {"stamp": STAMP_VERSION, "rows": args.rows, "seed": args.seed}
    stamp = read_stamp(stamp_path)
    if (stamp and {k: stamp.get(k) for k in want} == want and os.path.isfile(csv_path)
            and os.path.isfile(keys_path)):
        note(f"reusing {csv_path} ({args.rows:,} rows, seed {args.seed})")
        return csv_path, keys_path, False
    remove(stamp_path)
    seconds, _ = run([generator, "--rows", str(args.rows), "--seed", str(args.seed),
                      "--output", csv_path, "--keys", keys_path])
    write_stamp(stamp_path, dict(want, seconds=seconds))
    note(f"generated {args.rows:,} rows ({os.path.getsize(csv_path) / MIB:.1f} MiB) "
         f"and keys in {seconds:.2f} s")
    return csv_path, keys_path, True


def import_dataset(args, retl_build, csv_path, work, name, index_args, regenerated):
    """A dataset imported from the CSV; reused when the inputs, flags and retl-build match.

    Returns the stamp: import seconds (wall, of `retl-build import` alone), bytes, command.
    """
    path = os.path.join(work, name)
    stamp_path = path + ".stamp.json"
    import_args = ["--table", TABLE, "--input", csv_path, "--primary-key", "customer_id",
                   "--type", "orders=INT", "--type", "segment=INT", "--no-progress"]
    if not args.no_partition:
        import_args += ["--partition-by", "region"]
    import_args += index_args + shlex.split(args.import_args)
    want = {"stamp": STAMP_VERSION, "rows": args.rows, "seed": args.seed,
            "import_args": import_args, "retl_build": binary_id(retl_build)}
    stamp = read_stamp(stamp_path)
    if (not regenerated and stamp and {k: stamp.get(k) for k in want} == want
            and os.path.isdir(path)):
        note(f"reusing {path} (imported {stamp['when']} in {stamp['seconds']:.2f} s)")
        return dict(stamp, reused=True)
    remove(stamp_path)
    remove(path)
    run([retl_build, "init", path])
    cmd = [retl_build, "import", path] + import_args
    seconds, _ = run(cmd)
    stamp = dict(want, seconds=seconds, bytes=tree_bytes(path), command=shlex.join(cmd),
                 when=datetime.datetime.now().isoformat(timespec="seconds"))
    write_stamp(stamp_path, stamp)
    note(f"imported {name} in {seconds:.2f} s: {stamp['bytes'] / MIB:.1f} MiB")
    return dict(stamp, reused=False)


def sqlite_rows(csv_path):
    """The CSV's rows as SQLite values (empty field = NULL, booleans as 0/1)."""
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != [name for name, _ in SQLITE_COLUMNS]:
            fail(f"{csv_path}: unexpected header {header}")
        for line, r in enumerate(reader, start=2):
            try:
                yield (int(r[0]), r[1], r[2] or None, r[3] or None, r[4] or None,
                       r[5] or None, r[6] or None, float(r[7]) if r[7] else None,
                       int(r[8]) if r[8] else None, float(r[9]) if r[9] else None,
                       int(r[10]) if r[10] else None,
                       {"true": 1, "false": 0, "": None}[r[11]])
            except (ValueError, KeyError, IndexError) as e:
                fail(f"{csv_path}:{line}: cannot convert for SQLite: {e!r}")


def build_sqlite(args, csv_path, work, regenerated):
    """The SQLite database: table, UNIQUE index on email, ANALYZE, VACUUM; built under a
    temporary name and renamed, so a file that exists is complete."""
    path = os.path.join(work, "customers.sqlite")
    stamp_path = path + ".stamp.json"
    want = {"stamp": STAMP_VERSION, "rows": args.rows, "seed": args.seed,
            "sqlite_version": sqlite3.sqlite_version}
    stamp = read_stamp(stamp_path)
    if (not regenerated and stamp and {k: stamp.get(k) for k in want} == want
            and os.path.isfile(path)):
        note(f"reusing {path}")
        return dict(stamp, reused=True)
    remove(stamp_path)
    remove(path)
    tmp = path + ".tmp"
    remove(tmp)
    start = time.perf_counter()
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode = OFF")  # a scratch build: nothing to roll back to
        con.execute("PRAGMA synchronous = OFF")
        columns = ", ".join(f"{name} {decl}" for name, decl in SQLITE_COLUMNS)
        con.execute(f"CREATE TABLE {TABLE} ({columns})")
        con.execute("BEGIN")
        placeholders = ", ".join("?" * len(SQLITE_COLUMNS))
        con.executemany(f"INSERT INTO {TABLE} VALUES ({placeholders})", sqlite_rows(csv_path))
        con.execute("COMMIT")
        con.execute(f"CREATE UNIQUE INDEX {TABLE}_email ON {TABLE} (email)")
        con.execute("ANALYZE")
        # Rebuilds the table in rowid order and the index with full pages: the compact
        # file a read-only database shipped to a server would be.
        con.execute("VACUUM")
        rows = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    finally:
        con.close()
    return finish_build("SQLite", rows, args.rows, tmp, path, want, start, "built")


def finish_build(system, rows, expected, tmp, path, want, start, verb):
    """Checks a peer database built under the name `tmp`, moves it to `path` and writes its
    stamp (`want` plus time, size and date); returns the stamp."""
    if rows != expected:
        fail(f"{system} holds {rows:,} rows, expected {expected:,}")
    os.replace(tmp, path)
    seconds = time.perf_counter() - start
    stamp = dict(want, seconds=seconds, bytes=os.path.getsize(path),
                 when=datetime.datetime.now().isoformat(timespec="seconds"))
    write_stamp(path + ".stamp.json", stamp)
    note(f"{verb} {path} in {seconds:.1f} s: {stamp['bytes'] / MIB:.1f} MiB")
    return dict(stamp, reused=False)


def write_emails(keys_path, sqlite_path, rows, work):
    """One email per key, in the keys' order: the key's row's email when the key exists,
    else user{n}@example{n mod 97}.com for an n beyond the last row (checked absent)."""
    path = os.path.join(work, "emails.txt")
    con = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    hits = misses = 0
    try:
        by_id = f"SELECT email FROM {TABLE} WHERE customer_id = ?"
        by_email = f"SELECT 1 FROM {TABLE} WHERE email = ?"
        with open(keys_path) as keys, open(path + ".tmp", "w") as out:
            for line in keys:
                if not line.strip():
                    continue
                found = con.execute(by_id, (int(line),)).fetchone()
                if found:
                    email = found[0]
                    hits += 1
                else:
                    n = rows + misses
                    email = f"user{n}@example{n % 97}.com"
                    if con.execute(by_email, (email,)).fetchone():
                        fail(f"the miss email {email} exists")
                    misses += 1
                out.write(email + "\n")
    finally:
        con.close()
    os.replace(path + ".tmp", path)
    return path, hits, misses


# ---------------------------------------------------------------- measuring

def run_bench(bench, args, dataset, sqlite_path, keys_path, emails_path):
    results = []
    for k in range(args.runs):
        cmd = [bench, "--dataset", dataset, "--sqlite", sqlite_path, "--keys", keys_path,
               "--emails", emails_path, "--batch-size", str(args.batch_size)]
        if k % 2 == 1:  # alternate the order, so neither system always runs on a fresher heap
            cmd.append("--sqlite-first")
        if args.sqlite_autocommit:
            cmd.append("--sqlite-autocommit")
        _, out = run(cmd, capture=True)
        try:
            r = json.loads(out)
        except ValueError:
            fail(f"retl-lookup-bench printed no JSON object:\n{tail(out)}")
        results.append(r)
        note(f"run {k + 1}/{args.runs} ({r['order']}): "
             f"get p50 {r['retl']['get']['p50_ns']:.0f} / {r['sqlite']['get']['p50_ns']:.0f} ns, "
             f"{r['retl']['get']['ops_per_s']:,.0f} / {r['sqlite']['get']['ops_per_s']:,.0f} "
             f"lookups/s (rETL / SQLite), batch {r['retl']['batch']['keys_per_s']:,.0f} keys/s, "
             f"email p50 {r['retl']['email']['p50_ns']:.0f} / "
             f"{r['sqlite']['email']['p50_ns']:.0f} ns, "
             f"RSS after open {r['rss_after_open']['vm_rss'] / MIB:.1f} MiB")
    return results


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "all": values}


# (label, operation in the bench's JSON, figure, unit); per-second figures are better
# when higher, the others when lower.
METRICS = [
    ("get by customer_id p50", "get", "p50_ns", "ns"),
    ("get by customer_id p99", "get", "p99_ns", "ns"),
    ("get by customer_id mean", "get", "mean_ns", "ns"),
    ("get by customer_id", "get", "ops_per_s", "lookups/s"),
    ("GetBatch per key", "batch", "ns_per_key", "ns"),
    ("GetBatch", "batch", "keys_per_s", "keys/s"),
    ("GetBatch into rows, read after", "batch_rows", "keys_per_s", "keys/s"),
    ("get by email p50", "email", "p50_ns", "ns"),
    ("get by email p99", "email", "p99_ns", "ns"),
    ("get by email", "email", "ops_per_s", "lookups/s"),
]


def summarize(results):
    summary = {}
    for label, op, figure, unit in METRICS:
        entry = {"unit": unit}
        for system in ("retl", "sqlite"):
            if op in results[0][system]:
                entry[system] = spread([r[system][op][figure] for r in results])
        if "retl" in entry and "sqlite" in entry and entry["sqlite"]["median"]:
            entry["ratio"] = entry["retl"]["median"] / entry["sqlite"]["median"]
        summary[label] = entry
    summary["rss_after_open_bytes"] = spread([r["rss_after_open"]["vm_rss"] for r in results])
    summary["rss_after_email_open_bytes"] = spread(
        [r["rss_after_email_open"]["vm_rss"] for r in results])
    summary["rss_before_open_bytes"] = spread([r["rss_before_open"]["vm_rss"] for r in results])
    summary["timer_overhead_ns"] = spread([r["timer_overhead_ns"] for r in results])
    return summary


def fmt_value(v, unit):
    if unit == "ns":
        return f"{v:,.0f}"
    return f"{v / 1e6:,.2f}M" if v >= 1e6 else f"{v / 1e3:,.0f}k"


def fmt_spread(s, unit):
    if s is None:
        return "-"
    return " / ".join(fmt_value(s[k], unit) for k in ("min", "median", "max"))


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def targets(summary, dataset_bytes):
    """The lookup issue's targets: (what, measured text, PASS/FAIL)."""
    get, email = summary["get by customer_id"], summary["get by email p50"]
    p50 = summary["get by customer_id p50"]["retl"]["median"]
    p99 = summary["get by customer_id p99"]["retl"]["median"]
    single = get["retl"]["median"]
    batch = summary["GetBatch"]["retl"]["median"]
    rss = summary["rss_after_open_bytes"]["median"]
    checks = [
        ("get p50 <= 1 us", f"{p50:,.0f} ns", p50 <= 1000),
        ("get p99 <= 5 us", f"{p99:,.0f} ns", p99 <= 5000),
        ("get lookups/s >= 3x SQLite", f"{get['ratio']:.2f}x", get["ratio"] >= 3),
        ("GetBatch per-key throughput >= 2x single Get", f"{batch / single:.2f}x",
         batch >= 2 * single),
        ("email p50 <= 2 us", f"{email['retl']['median']:,.0f} ns",
         email["retl"]["median"] <= 2000),
        ("RSS after open < 50 MiB", f"{rss / MIB:.1f} MiB", rss < 50 * MIB),
        ("dataset (data + indexes) <= 150 MiB", f"{dataset_bytes / MIB:.1f} MiB",
         dataset_bytes <= 150 * MIB),
    ]
    return [{"target": t, "measured": m, "pass": ok} for t, m, ok in checks]


def report(args, results, summary, imports, sqlite_info, emails):
    plain, indexed = imports
    r0 = results[0]
    print(f"Point lookups: {TABLE}, {args.rows:,} rows"
          f"{'' if args.no_partition else ', partitioned by region'}; "
          f"{r0['keys']:,} keys ({emails['hits']:,} hits), {r0['emails']:,} emails, "
          f"GetBatch of {r0['batch_size']} keys; "
          f"{args.runs} run(s), one process per run, single thread, warm")
    print(f"SQLite {r0['sqlite']['version']}: read-only, "
          f"{'autocommit' if r0['sqlite']['autocommit'] else 'one read transaction'}, "
          f"cache_size {r0['sqlite']['cache_size_kib'] / 1024:,.0f} MiB, "
          f"mmap_size {r0['sqlite']['mmap_size'] / MIB:,.0f} MiB, "
          f"page_size {r0['sqlite']['page_size']}")
    print(f"  plans: {r0['sqlite']['plan_get']} | {r0['sqlite']['plan_email']}")
    print()
    rows = []
    for label, _, _, unit in METRICS:
        e = summary[label]
        ratio = f"{e['ratio']:.2f}" if "ratio" in e else "-"
        rows.append([f"{label} ({unit})", fmt_spread(e.get("retl"), unit),
                     fmt_spread(e.get("sqlite"), unit), ratio])
    print_table(["metric", "rETL min / median / max", "SQLite min / median / max",
                 "rETL/SQLite"], rows)
    print("ratio: of the medians; for ns lower is better, for per-second figures higher. "
          f"Latencies include one clock read (~{summary['timer_overhead_ns']['median']:.0f} ns).")
    print()

    reused = lambda s: " (reused from an earlier run)" if s["reused"] else ""
    index_bytes = indexed["bytes"] - plain["bytes"]
    rss = summary["rss_after_open_bytes"]
    print_table(["", "value"], [
        ["RSS after opening dataset + PK lookup (min / median / max)",
         " / ".join(f"{rss[k] / MIB:.1f}" for k in ("min", "median", "max")) + " MiB"],
        ["RSS after also opening the email lookup (median)",
         f"{summary['rss_after_email_open_bytes']['median'] / MIB:.1f} MiB"],
        ["RSS before opening (process, libraries; median)",
         f"{summary['rss_before_open_bytes']['median'] / MIB:.1f} MiB"],
        ["rETL dataset, data + indexes", f"{indexed['bytes'] / MIB:.1f} MiB"],
        ["rETL dataset without the email index", f"{plain['bytes'] / MIB:.1f} MiB"],
        ["  email index", f"{index_bytes / MIB:.1f} MiB "
                          f"({100 * index_bytes / max(plain['bytes'], 1):.0f}%)"],
        ["SQLite database (table + email index)", f"{sqlite_info['bytes'] / MIB:.1f} MiB"],
        ["import without --index" + reused(plain), f"{plain['seconds']:.2f} s"],
        ["import with --index email" + reused(indexed), f"{indexed['seconds']:.2f} s"],
        ["  index build", f"{indexed['seconds'] - plain['seconds']:+.2f} s"],
        ["SQLite build (Python csv + sqlite3, VACUUM)" + reused(sqlite_info),
         f"{sqlite_info['seconds']:.1f} s"],
    ])
    print("import times are single runs (bench/import_bench.py repeats imports).")
    print()

    checks = targets(summary, indexed["bytes"])
    print_table(["target", "measured (median)", "result"],
                [[c["target"], c["measured"], "PASS" if c["pass"] else "FAIL"] for c in checks])
    if args.rows != MAIN_ROWS:
        print(f"note: the targets are set for {MAIN_ROWS:,} rows; this run has {args.rows:,}.")
    return checks


def main():
    parser = argparse.ArgumentParser(
        description="Point lookups of the reference customers table (WORKLOAD.md): rETL DB "
                    "against SQLite, in one process.")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"),
                        help="build directory holding tools/retl-build, "
                             "bench/retl-gen-customers and bench/retl-lookup-bench "
                             "(default: build/release of this repo)")
    parser.add_argument("--rows", type=positive_int, default=MAIN_ROWS,
                        help="rows of the generated table (default: %(default)s)")
    parser.add_argument("--runs", type=positive_int, default=5,
                        help="runs of retl-lookup-bench, one process each (default: 5)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    parser.add_argument("--batch-size", type=positive_int, default=100,
                        help="keys per GetBatch (default: 100)")
    parser.add_argument("--no-partition", action="store_true",
                        help="import without --partition-by region")
    parser.add_argument("--import-args", default="",
                        help="extra arguments for both retl-build imports, split like a shell "
                             "would, e.g. --import-args='--block-rows 4096'")
    parser.add_argument("--sqlite-autocommit", action="store_true",
                        help="SQLite lookups each in their own implicit transaction (a file "
                             "lock per lookup) instead of one read transaction")
    parser.add_argument("--workdir", default=os.path.join(REPO, "build", "bench-lookup"),
                        help="where the CSV, keys, datasets and SQLite file go, reused by "
                             "later runs (default: build/bench-lookup)")
    parser.add_argument("--fresh", action="store_true",
                        help="regenerate the CSV and rebuild the datasets and SQLite file")
    parser.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    args = parser.parse_args()
    try:
        shlex.split(args.import_args)
    except ValueError as e:
        fail(f"--import-args: {e}")

    build_dir = os.path.abspath(args.build_dir)
    retl_build = find_binary(build_dir, os.path.join("tools", "retl-build"))
    generator = find_binary(build_dir, os.path.join("bench", "retl-gen-customers"))
    bench = find_binary(build_dir, os.path.join("bench", "retl-lookup-bench"))
    work = os.path.abspath(args.workdir)
    if args.fresh and os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)

    csv_path, keys_path, regenerated = generate(args, generator, work)
    plain = import_dataset(args, retl_build, csv_path, work, "dataset", [], regenerated)
    indexed = import_dataset(args, retl_build, csv_path, work, "dataset-indexed",
                             ["--index", "email"], regenerated)
    sqlite_info = build_sqlite(args, csv_path, work, regenerated)
    sqlite_path = os.path.join(work, "customers.sqlite")
    emails_path, hits, misses = write_emails(keys_path, sqlite_path, args.rows, work)
    note(f"wrote {emails_path}: {hits:,} existing and {misses:,} absent emails")

    results = run_bench(bench, args, os.path.join(work, "dataset-indexed"), sqlite_path,
                        keys_path, emails_path)
    summary = summarize(results)
    emails = {"hits": hits, "misses": misses}
    checks = report(args, results, summary, (plain, indexed), sqlite_info, emails)

    if args.json:
        out = {
            "table": TABLE, "rows": args.rows, "runs": args.runs, "seed": args.seed,
            "batch_size": args.batch_size, "partition_by": None if args.no_partition else "region",
            "sqlite_autocommit": args.sqlite_autocommit,
            "import_without_index": plain, "import_with_index": indexed,
            "index_bytes": indexed["bytes"] - plain["bytes"],
            "sqlite": sqlite_info, "emails": emails,
            "summary": summary, "targets": checks, "runs_raw": results,
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
