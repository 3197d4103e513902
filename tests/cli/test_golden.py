"""Golden datasets: files written by earlier releases must read back exactly.

tests/golden/v1 was written by the first format-version-1 writer and is kept
forever: a change that breaks reading it breaks every deployed dataset.
"""
import pathlib
import shutil

from conftest import ROOT, query, run

GOLDEN = ROOT / "tests" / "golden" / "v1"


def test_golden_v1_reads_back_exactly(tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(GOLDEN / "customers_ds", ds)
    run("verify", ds, "--all")
    for table, expected in [("customers", "customers.dump.csv"),
                            ("customers_zstd", "customers_zstd.dump.csv")]:
        assert run("dump", ds, "--table", table).out == (GOLDEN / expected).read_bytes().decode(), table
    info = run("info", ds).out
    assert "table customers: 3,000 rows, 8 partitions" in info
    assert "DECIMAL(12,2)" in info and "+zstd" in info
    versions = run("versions", ds).out
    assert "golden v1" in versions and "3*" in versions
    # Time travel into the golden history: version 2 had one table.
    assert "tables:   1" in run("info", ds, "--version", "2").out


GOLDEN_INDEXES = ROOT / "tests" / "golden" / "v1-indexes"


def test_golden_indexes_look_up_exactly(tmp_path):
    """Index files of the first index writer: lookups through each index, and verify (which
    rebuilds every index and compares) pass on them forever."""
    ds = tmp_path / "ds"
    shutil.copytree(GOLDEN_INDEXES / "customers_ds", ds)
    run("verify", ds, "--all")
    expect = lambda name: (GOLDEN_INDEXES / name).read_bytes().decode()  # noqa: E731
    r = query(ds, "--lookup", "customers", "12345", "2654448106", "264071465152", "1",
              "--format", "csv")
    assert r.out == expect("lookup_pk.csv") and "key 1: not found" in r.err
    r = query(ds, "--lookup", "customers", "--index", "email", "user5@example5.com",
              "user2999@example89.com", "nobody@example.com", "--format", "csv")
    assert r.out == expect("lookup_email.csv")
    r = query(ds, "--lookup", "customers", "--index", "plan_segment", "business,37",
              "--format", "csv")
    assert r.out == expect("lookup_plan_segment.csv")
    r = query(ds, "--lookup", "customers_zstd", "12345", "2654448106", "--format", "jsonl")
    assert r.out == expect("lookup_zstd.jsonl")
