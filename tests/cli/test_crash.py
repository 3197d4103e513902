"""Crash safety: retl-build import killed with SIGKILL at random moments.

After every kill the dataset must open at the last committed version (the old
one, or the new one if the kill came after the commit point), `verify` must
pass, and the rows must be exactly those of that version. The next writer
removes the dead writer's leftovers.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import GEN, RETL_BUILD, data_files, live_version, run

ITERATIONS = int(os.environ.get("RETL_CRASH_ITERATIONS", "40"))


@pytest.mark.slow
@pytest.mark.parametrize("limit", [[], ["--memory-limit", "2MiB"]], ids=["in-memory", "spilled"])
def test_sigkill_during_import_never_breaks_the_dataset(tmp_path, limit):
    csv_a = tmp_path / "a.csv"
    csv_b = tmp_path / "b.csv"
    subprocess.run([str(GEN), "--rows", "60000", "--seed", "1", "--output", str(csv_a)], check=True)
    subprocess.run([str(GEN), "--rows", "90000", "--seed", "2", "--output", str(csv_b)], check=True)
    ds = tmp_path / "ds"
    run("init", ds)
    run("import", ds, "--table", "customers", "--input", csv_a, "--primary-key", "customer_id",
        "--partition-by", "region")
    expected_rows = {2: 60000}

    # How long an uninterrupted import takes, to spread the kills over it.
    start = time.monotonic()
    run("import", ds, "--table", "customers", "--input", csv_b, "--mode", "replace-table",
        "--primary-key", "customer_id", "--partition-by", "region", *limit)
    duration = time.monotonic() - start
    expected_rows[3] = 90000

    rng = random.Random(1234)
    outcomes = {"old": 0, "new": 0}
    for i in range(ITERATIONS):
        before = live_version(ds)
        src, rows = (csv_a, 60000) if i % 2 else (csv_b, 90000)
        proc = subprocess.Popen(
            [str(RETL_BUILD), "import", str(ds), "--table", "customers", "--input", str(src),
             "--mode", "replace-table", "--primary-key", "customer_id", "--partition-by",
             "region", "--no-progress", *limit],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = live_version(ds)
        assert after in (before, before + 1), (before, after)
        if after == before + 1:
            expected_rows[after] = rows
            outcomes["new"] += 1
        else:
            outcomes["old"] += 1
        # The live version verifies and holds exactly its rows.
        run("verify", ds)
        info = run("info", ds).out
        assert f"table customers: {expected_rows[after]:,} rows" in info, info
    # Both outcomes happened, so kills landed before and after commit points.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
    # The next writer cleans up every leftover of the killed ones.
    run("drop-table", ds, "--table", "customers")
    live = live_version(ds)
    for name in data_files(ds):
        assert int(name[:20]) <= live, name
    run("verify", ds, "--all")
    print(f"crash test ({' '.join(limit) or 'in memory'}): {ITERATIONS} SIGKILLs, outcomes {outcomes}")
