#!/usr/bin/env python3
"""Analytical queries Q1-Q7 of WORKLOAD.md: rETL DB against DuckDB and SQLite.

Builds the reference customers table (2,000,000 rows by default) as a rETL dataset (the same
import as bench/lookup_bench.py, with which it shares the CSV, the datasets and the SQLite
file), loads the same CSV into a DuckDB database file (DuckDB from PyPI, installed with pip
if missing) and into SQLite, then runs every query --warmup times untimed and --runs times
timed in each system, each in one process over an open database:

  rETL    bench/retl-sql-bench (QueryEngine::ExecuteSql, every result value read as text);
  DuckDB  duckdb.connect(file).execute(q).fetchall(), all cores (DuckDB's default);
  SQLite  sqlite3 (Python's module) execute(q).fetchall().

Prints per query the median and spread (min / median / max) in milliseconds and the ratio of
medians rETL/DuckDB and rETL/SQLite, and checks that the three systems return the same rows
(numbers compared to 1e-9 relative; rows as sets, and the ORDER BY column of ordered
queries in order). With --large,
also runs Q2 and Q3 at 10,000,000 rows (rETL and DuckDB) to show how time grows with data.

    scripts/build.sh release
    python3 bench/analytics_bench.py [--rows N] [--runs 5] [--warmup 1] [--large] [--json F]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lookup_bench as lb  # noqa: E402  (the shared CSV, import and SQLite steps)
from benchutil import positive_int  # noqa: E402

TOOL = "analytics_bench"

# WORKLOAD.md's queries as (name, rETL and DuckDB text, SQLite text if different: it has
# no DATE literals, and its ISO-8601 date text compares in date order). rETL sorts NULLs as
# PostgreSQL does, first in descending order; DuckDB and SQLite put them last, so they get
# NULLS FIRST spelled out where an ORDER BY could meet a NULL (Q5's ltv), to compute the
# same answer.
QUERIES = [
    ("Q1", "SELECT count(*) FROM customers", None),
    ("Q2", "SELECT country, count(*), avg(ltv) FROM customers GROUP BY country ORDER BY 2 DESC",
     None),
    ("Q3", "SELECT plan, segment, sum(orders), max(churn_score) FROM customers "
           "WHERE signup_date >= DATE '2024-01-01' GROUP BY plan, segment",
     "SELECT plan, segment, sum(orders), max(churn_score) FROM customers "
     "WHERE signup_date >= '2024-01-01' GROUP BY plan, segment"),
    ("Q4", "SELECT count(DISTINCT country), count(DISTINCT segment) FROM customers", None),
    ("Q5", "SELECT customer_id, ltv FROM customers WHERE plan = 'pro' AND is_active "
           "ORDER BY ltv DESC LIMIT 10", None),
    ("Q6", "SELECT region, plan, count(*), sum(ltv), avg(orders) FROM customers "
           "WHERE country IN ('US', 'DE', 'FR') AND churn_score > 0.5 GROUP BY region, plan",
     None),
    ("Q7", "SELECT count(*) FROM customers WHERE email LIKE '%example7%'", None),
]
# Spelling for DuckDB and SQLite where their defaults differ from PostgreSQL's.
NULLS_FIRST = {"Q5": ("ORDER BY ltv DESC", "ORDER BY ltv DESC NULLS FIRST")}
# Columns compared where ties make the rows themselves unspecified: Q5's top 10 may be any
# of the rows with the largest ltv (many have none), so only the ltv values are compared.
COMPARED_COLUMNS = {"Q5": [1]}
# The ORDER BY column of ordered queries: rows are compared as sets (ties may come in any
# order), and this column's values in order.
ORDER_COLUMN = {"Q2": 1, "Q5": 1}
LARGE_ROWS = 10_000_000
LARGE_QUERIES = ("Q2", "Q3")

DUCKDB_COLUMNS = {
    "customer_id": "BIGINT", "email": "VARCHAR", "country": "VARCHAR", "region": "VARCHAR",
    "plan": "VARCHAR", "signup_date": "DATE", "last_seen": "TIMESTAMP", "ltv": "DOUBLE",
    "orders": "INTEGER", "churn_score": "DOUBLE", "segment": "INTEGER", "is_active": "BOOLEAN",
}


def fail(message):
    print(f"{TOOL}: error: {message}", file=sys.stderr)
    sys.exit(1)


def note(message):
    print(f"[{TOOL}] {message}", file=sys.stderr, flush=True)


def import_duckdb():
    try:
        import duckdb  # noqa: F401
    except ImportError:
        note("installing duckdb from PyPI (pip install duckdb)")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "duckdb"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail("pip install duckdb failed:\n" + r.stderr[-2000:])
    import duckdb
    return duckdb


def build_duckdb(duckdb, args, csv_path, work, regenerated):
    """The DuckDB database file, loaded from the CSV; reused when rows, seed and version match."""
    path = os.path.join(work, "customers.duckdb")
    stamp_path = path + ".stamp.json"
    want = {"stamp": lb.STAMP_VERSION, "rows": args.rows, "seed": args.seed,
            "duckdb": duckdb.__version__}
    stamp = lb.read_stamp(stamp_path)
    if (not regenerated and stamp and {k: stamp.get(k) for k in want} == want
            and os.path.isfile(path)):
        note(f"reusing {path}")
        return dict(stamp, reused=True)
    lb.remove(stamp_path)
    lb.remove(path)
    tmp = path + ".tmp"
    lb.remove(tmp)
    start = time.perf_counter()
    con = duckdb.connect(tmp)
    try:
        columns = ", ".join(f"'{k}': '{v}'" for k, v in DUCKDB_COLUMNS.items())
        con.execute(f"CREATE TABLE {lb.TABLE} AS SELECT * FROM read_csv('{csv_path}', "
                    f"header = true, columns = {{{columns}}})")
        rows = con.execute(f"SELECT count(*) FROM {lb.TABLE}").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return lb.finish_build("DuckDB", rows, args.rows, tmp, path, want, start, "loaded")


def time_python(execute, queries, warmup, runs):
    """{name: (times_ms, rows)} running each query through execute(sql) -> rows."""
    out = {}
    for name, sql in queries:
        for _ in range(warmup):
            execute(sql)
        times = []
        rows = None
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = execute(sql)
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = (times, rows)
    return out


def time_retl(bench, dataset, queries, warmup, runs, work):
    path = os.path.join(work, "analytics_queries.sql")
    with open(path, "w") as f:
        for _, sql in queries:
            f.write(sql + "\n")
    r = subprocess.run([bench, "--dataset", dataset, "--queries", path, "--runs", str(runs),
                        "--warmup", str(warmup)], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"retl-sql-bench failed:\n{r.stderr[-2000:]}")
    result = json.loads(r.stdout)["queries"]
    return {name: (q["times_ms"], q["rows"]) for (name, _), q in zip(queries, result)}


def normalize(value):
    """A comparable form of one result value from any of the three systems."""
    if value is None or value == "NULL":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return {"true": 1.0, "false": 0.0}.get(text, text)


def peer_sql(name, sql):
    """The query as DuckDB or SQLite must be asked for rETL's (PostgreSQL's) answer."""
    if name in NULLS_FIRST:
        old, new = NULLS_FIRST[name]
        sql = sql.replace(old, new)
    return sql


def same_rows(a, b, order_column=None, columns=None):
    """Whether two results hold the same rows (as sets), and, for an ordered query, the same
    values of its ORDER BY column in the same order."""
    if order_column is not None and not same_rows([[r[order_column]] for r in a],
                                                  [[r[order_column]] for r in b]):
        return False
    pick = (lambda row: [row[c] for c in columns]) if columns else (lambda row: row)
    key = lambda row: tuple((v is None, str(v)) for v in row)
    ra = sorted((tuple(normalize(v) for v in pick(row)) for row in a), key=key)
    rb = sorted((tuple(normalize(v) for v in pick(row)) for row in b), key=key)
    if len(ra) != len(rb):
        return False
    for x, y in zip(ra, rb):
        if len(x) != len(y):
            return False
        for u, v in zip(x, y):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif u != v:
                return False
    return True


def spread(times):
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


def fmt_spread(s):
    return f"{s['min']:.1f} / {s['median']:.1f} / {s['max']:.1f}"


def run_size(args, tools, duckdb, rows, names, with_sqlite):
    """Times the queries `names` at `rows` rows; returns {system: {query: (times, rows)}}."""
    size_args = argparse.Namespace(**vars(args))
    size_args.rows = rows
    work = os.path.join(os.path.abspath(args.workdir), f"{rows}")
    os.makedirs(work, exist_ok=True)
    csv_path, _, regenerated = lb.generate(size_args, tools["generator"], work)
    lb.import_dataset(size_args, tools["retl_build"], csv_path, work, "dataset-indexed",
                      ["--index", "email"], regenerated)
    build_duckdb(duckdb, size_args, csv_path, work, regenerated)
    if with_sqlite:
        lb.build_sqlite(size_args, csv_path, work, regenerated)

    chosen = [(n, sql, lite) for n, sql, lite in QUERIES if n in names]
    results = {}
    note(f"{rows:,} rows: rETL")
    results["retl"] = time_retl(tools["bench"], os.path.join(work, "dataset-indexed"),
                                [(n, sql) for n, sql, _ in chosen], args.warmup, args.runs, work)
    note(f"{rows:,} rows: DuckDB")
    con = duckdb.connect(os.path.join(work, "customers.duckdb"), read_only=True)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    results["duckdb"] = time_python(lambda q: con.execute(q).fetchall(),
                                    [(n, peer_sql(n, sql)) for n, sql, _ in chosen],
                                    args.warmup, args.runs)
    con.close()
    if with_sqlite:
        import sqlite3
        note(f"{rows:,} rows: SQLite")
        lite = sqlite3.connect(f"file:{os.path.join(work, 'customers.sqlite')}?mode=ro", uri=True)
        results["sqlite"] = time_python(lambda q: lite.execute(q).fetchall(),
                                        [(n, peer_sql(n, lsql or sql)) for n, sql, lsql in chosen],
                                        args.warmup, args.runs)
        lite.close()
    results["duckdb_threads"] = threads
    return results


def report(title, results, names):
    systems = [s for s in ("retl", "duckdb", "sqlite") if s in results]
    header = ["query"] + [f"{s} ms (min / median / max)" for s in systems]
    header += ["rETL/DuckDB"] + (["rETL/SQLite"] if "sqlite" in results else [])
    rows, totals, mismatches, summary = [], {s: 0.0 for s in systems}, [], {}
    for name in names:
        entry = {s: spread(results[s][name][0]) for s in systems}
        for s in systems:
            totals[s] += entry[s]["median"]
            if s != "retl" and not same_rows(results["retl"][name][1], results[s][name][1],
                                             ORDER_COLUMN.get(name), COMPARED_COLUMNS.get(name)):
                mismatches.append(f"{name}: rETL and {s} differ: {results['retl'][name][1][:5]}"
                                  f" vs {results[s][name][1][:5]}")
        row = [name] + [fmt_spread(entry[s]) for s in systems]
        row.append(f"{entry['retl']['median'] / entry['duckdb']['median']:.2f}")
        if "sqlite" in results:
            row.append(f"{entry['retl']['median'] / entry['sqlite']['median']:.2f}")
        rows.append(row)
        summary[name] = entry
    total = ["total (of medians)"] + [f"{totals[s]:.1f}" for s in systems]
    total.append(f"{totals['retl'] / totals['duckdb']:.2f}")
    if "sqlite" in results:
        total.append(f"{totals['retl'] / totals['sqlite']:.2f}")
    rows.append(total)
    print(title)
    lb.print_table(header, rows)
    print()
    return summary, mismatches


def main():
    parser = argparse.ArgumentParser(
        description="Q1-Q7 of WORKLOAD.md: rETL DB against DuckDB and SQLite, each in one "
                    "process, warm.")
    parser.add_argument("--build-dir", default=os.path.join(lb.REPO, "build", "release"),
                        help="build directory with tools/retl-build, bench/retl-gen-customers "
                             "and bench/retl-sql-bench (default: build/release)")
    parser.add_argument("--rows", type=positive_int, default=lb.MAIN_ROWS,
                        help="rows of the table (default: %(default)s)")
    parser.add_argument("--runs", type=positive_int, default=5, help="timed runs per query")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per query first")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    parser.add_argument("--large", action="store_true",
                        help=f"also run {', '.join(LARGE_QUERIES)} at {LARGE_ROWS:,} rows "
                             "(rETL and DuckDB)")
    parser.add_argument("--workdir", default=os.path.join(lb.REPO, "build", "bench-analytics"),
                        help="where CSVs, datasets and databases go, per row count, reused by "
                             "later runs (default: build/bench-analytics)")
    parser.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    args = parser.parse_args()
    args.no_partition = False
    args.import_args = ""
    if args.warmup < 0:
        fail("--warmup must be at least 0")

    build_dir = os.path.abspath(args.build_dir)
    tools = {
        "retl_build": lb.find_binary(build_dir, os.path.join("tools", "retl-build")),
        "generator": lb.find_binary(build_dir, os.path.join("bench", "retl-gen-customers")),
        "bench": lb.find_binary(build_dir, os.path.join("bench", "retl-sql-bench")),
    }
    duckdb = import_duckdb()
    names = [n for n, _, _ in QUERIES]
    out = {"runs": args.runs, "warmup": args.warmup, "duckdb_version": duckdb.__version__}
    results = run_size(args, tools, duckdb, args.rows, names, with_sqlite=True)
    print(f"{lb.TABLE}, {args.rows:,} rows (8 region partitions in rETL); {args.runs} timed runs "
          f"per query after {args.warmup} warm-up; rETL and DuckDB on all {os.cpu_count()} cores "
          f"(DuckDB "
          f"{duckdb.__version__}: {results['duckdb_threads']} threads), SQLite "
          f"{__import__('sqlite3').sqlite_version}")
    summary, mismatches = report(f"{args.rows:,} rows", results, names)
    out["main"] = {"rows": args.rows, "summary": summary}
    if args.large:
        large = run_size(args, tools, duckdb, LARGE_ROWS, LARGE_QUERIES, with_sqlite=False)
        s, m = report(f"{LARGE_ROWS:,} rows", large, LARGE_QUERIES)
        out["large"] = {"rows": LARGE_ROWS, "summary": s}
        mismatches += m
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    for m in mismatches:
        print(f"MISMATCH {m}")
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
