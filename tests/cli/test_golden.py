"""Golden datasets: files written by earlier releases must read back exactly.

tests/golden/v1 was written by the first format-version-1 writer and is kept
forever: a change that breaks reading it breaks every deployed dataset.
"""
import pathlib
import shutil

from conftest import ROOT, run

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
