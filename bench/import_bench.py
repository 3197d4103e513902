#!/usr/bin/env python3
"""Import benchmark: how fast `retl-build import` builds the reference `customers` table.

Generates the reference CSV (WORKLOAD.md) with retl-gen-customers, then, --runs times, on a
fresh dataset directory each time:

    retl-build init DIR                                  (not timed)
    retl-build import DIR --table customers --input customers.csv \\
        --primary-key customer_id --partition-by region   (timed)

and prints min / median / max wall seconds of the import, median rows per second, the peak
resident set size of the import process, the size of the dataset and of the CSV.

Wall time is time.perf_counter() around the import process (start to reaped). Peak RSS and CPU
time are that process's own (os.wait4 rusage), so the generator and `init` never pollute them.
The CSV is read from the page cache (it was just written); nothing drops caches.

Usage: bench/import_bench.py [--build-dir build/release] [--rows 2000000] [--runs 3]
                             [--no-partition] [--shuffle] [--work-dir DIR] [--keep] [--json FILE]
Standard library only.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import positive_int, tree_bytes  # noqa: E402
import benchutil  # noqa: E402


def fail(message):
    benchutil.fail("import_bench", message)


def find_binary(build_dir, relative):
    return benchutil.find_binary("import_bench", build_dir, relative)


MIB = 1024 * 1024


def run(cmd, log_prefix):
    return benchutil.run_measured("import_bench", cmd, log_prefix)


def main():
    parser = argparse.ArgumentParser(
        description="Measures the import rate of the reference customers table "
                    "(WORKLOAD.md) with retl-build.")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"),
                        help="build directory holding tools/retl-build and "
                             "bench/retl-gen-customers (default: build/release of this repo)")
    parser.add_argument("--rows", type=positive_int, default=2_000_000,
                        help="rows of the generated table (default: %(default)s)")
    parser.add_argument("--runs", type=positive_int, default=3,
                        help="timed imports, each into a fresh dataset (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    parser.add_argument("--no-partition", action="store_true",
                        help="import without --partition-by region")
    parser.add_argument("--shuffle", action="store_true",
                        help="generate rows in random (warehouse export) order, not id order")
    parser.add_argument("--import-args", default="",
                        help="extra arguments for retl-build import, split like a shell "
                             "would, e.g. --import-args='--compression zstd'")
    parser.add_argument("--work-dir",
                        help="where the CSV and the datasets go (default: a new temporary "
                             "directory, removed afterwards unless --keep)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the CSV, the last dataset and the logs")
    parser.add_argument("--info", action="store_true",
                        help="print `retl-build info` of the first dataset")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    retl_build = find_binary(build_dir, os.path.join("tools", "retl-build"))
    generator = find_binary(build_dir, os.path.join("bench", "retl-gen-customers"))
    try:
        extra = shlex.split(args.import_args)
    except ValueError as e:
        fail(f"--import-args: {e}")

    own_work_dir = args.work_dir is None
    try:
        if own_work_dir:
            work = tempfile.mkdtemp(prefix="retl-import-bench-")
        else:
            work = os.path.abspath(args.work_dir)
            os.makedirs(work, exist_ok=True)
    except OSError as e:
        fail(f"cannot create the work directory: {e}")

    dataset = None
    try:
        csv_path = os.path.join(work, "customers.csv")
        gen_cmd = [generator, "--rows", str(args.rows), "--seed", str(args.seed),
                   "--output", csv_path]
        if args.shuffle:
            gen_cmd.append("--shuffle")
        gen_seconds, _ = run(gen_cmd, os.path.join(work, "gen"))
        csv_bytes = os.path.getsize(csv_path)
        print(f"generated {args.rows:,} rows ({csv_bytes / MIB:.1f} MiB) in {gen_seconds:.2f} s: "
              f"{csv_path}", file=sys.stderr)

        import_tail = ["--table", "customers", "--input", csv_path,
                       "--primary-key", "customer_id"]
        if not args.no_partition:
            import_tail += ["--partition-by", "region"]
        import_tail += extra

        walls, cpus, rss, dataset_bytes = [], [], [], []
        for k in range(1, args.runs + 1):
            if dataset is not None:  # keep one dataset on disk at a time
                shutil.rmtree(dataset, ignore_errors=True)
            dataset = os.path.join(work, f"dataset-{k}")
            shutil.rmtree(dataset, ignore_errors=True)
            run([retl_build, "init", dataset], os.path.join(work, f"init-{k}"))
            import_cmd = [retl_build, "import", dataset] + import_tail
            wall, usage = run(import_cmd, os.path.join(work, f"import-{k}"))
            walls.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
            rss.append(usage.ru_maxrss * 1024)  # KiB on Linux
            dataset_bytes.append(tree_bytes(dataset))
            print(f"run {k}/{args.runs}: {wall:.3f} s, cpu {cpus[-1]:.2f} s, "
                  f"peak RSS {rss[-1] / MIB:.1f} MiB, dataset {dataset_bytes[-1] / MIB:.1f} MiB",
                  file=sys.stderr)
            if k == 1 and args.info:
                run([retl_build, "info", dataset], os.path.join(work, "info"))
                print(open(os.path.join(work, "info.out"), errors="replace").read().rstrip(),
                      file=sys.stderr)

        median = statistics.median(walls)
        result = {
            "table": "customers",
            "rows": args.rows,
            "runs": args.runs,
            "seed": args.seed,
            "shuffled": args.shuffle,
            "partition_by": None if args.no_partition else "region",
            "import_args": extra,
            "seconds_min": min(walls),
            "seconds_median": median,
            "seconds_max": max(walls),
            "seconds_all": walls,
            "rows_per_second_median": args.rows / median if median > 0 else float("inf"),
            "cpu_seconds_median": statistics.median(cpus),
            "peak_rss_bytes": max(rss),
            "dataset_bytes": dataset_bytes[-1],
            "csv_bytes": csv_bytes,
            "command": shlex.join([retl_build, "import", "DIR"] + import_tail),
        }
        print_table(result)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
                f.write("\n")
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        elif own_work_dir:
            shutil.rmtree(work, ignore_errors=True)
        else:  # the caller's directory: remove the big files, leave the logs
            if dataset is not None:
                shutil.rmtree(dataset, ignore_errors=True)
            if os.path.exists(os.path.join(work, "customers.csv")):
                os.remove(os.path.join(work, "customers.csv"))


def print_table(r):
    partition = f"partition-by {r['partition_by']}" if r["partition_by"] else "no partitioning"
    extra = f", {shlex.join(r['import_args'])}" if r["import_args"] else ""
    order = "shuffled" if r["shuffled"] else "id order"
    print(f"retl-build import: customers, {partition}{extra}, {order}; "
          f"median of {r['runs']} run(s)")
    header = ["rows", "runs", "min s", "median s", "max s", "rows/s (median)", "cpu s (median)",
              "peak RSS MiB", "dataset MiB", "CSV MiB"]
    row = [f"{r['rows']:,}", str(r["runs"]), f"{r['seconds_min']:.3f}",
           f"{r['seconds_median']:.3f}", f"{r['seconds_max']:.3f}",
           f"{r['rows_per_second_median']:,.0f}", f"{r['cpu_seconds_median']:.2f}",
           f"{r['peak_rss_bytes'] / MIB:.1f}", f"{r['dataset_bytes'] / MIB:.1f}",
           f"{r['csv_bytes'] / MIB:.1f}"]
    benchutil.print_columns(header, [row])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
