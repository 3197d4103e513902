"""retl-build and indexes (FORMAT.md §12): --index and INDEX in CREATE TABLE,
index files beside segments, verify, info, and the errors of each."""
import pathlib

from conftest import data_files, live_version, query, run, write_csv


def people(tmp_path, name="people.csv", rows=None):
    rows = rows if rows is not None else [
        [str(i), f"user{i}@example.com", ["eu", "us", "apac"][i % 3], ["red", "blue"][i % 2]]
        for i in range(300)]
    return write_csv(tmp_path / name, ["id", "email", "region", "color"], rows)


def test_index_flag_builds_index_files_that_verify(ds, tmp_path):
    src = people(tmp_path)
    run("import", ds, "--table", "p", "--input", src, "--primary-key", "id",
        "--partition-by", "region", "--index", "email", "--index", "color,region")
    files = data_files(ds)
    segs = [f for f in files if f.endswith(".seg")]
    idxs = [f for f in files if f.endswith(".idx")]
    assert len(segs) == 3 and [s[:-4] for s in segs] == [i[:-4] for i in idxs]
    info = run("info", ds).out
    assert "indexes:        primary key, email (email), color_region (color, region)" in info, info
    run("verify", ds)


def test_index_in_create_table(ds, tmp_path):
    schema = tmp_path / "p.sql"
    schema.write_text("CREATE TABLE p (id BIGINT PRIMARY KEY, email TEXT, region TEXT, color TEXT,\n"
                      "  INDEX by_email (email), INDEX (color))")
    run("import", ds, "--table", "p", "--input", people(tmp_path), "--schema", schema,
        "--index", "email")  # the same as by_email? no: a second index named 'email'
    info = run("info", ds).out
    assert "by_email (email), color (color), email (email)" in info, info
    run("verify", ds)


def test_index_errors(ds, tmp_path):
    src = people(tmp_path)
    r = run("import", ds, "--table", "p", "--input", src, "--primary-key", "id",
            "--index", "mail", expect=1)
    assert "--index mail: 'mail' is not a column of the table" in r.err
    r = run("import", ds, "--table", "p", "--input", src, "--primary-key", "id",
            "--index", "email,email", expect=1)
    assert "appears twice" in r.err
    assert live_version(ds) == 1 and data_files(ds) == []
    run("import", ds, "--table", "p", "--input", src, "--primary-key", "id",
        "--partition-by", "region")
    r = run("import", ds, "--table", "p", "--input", src, "--mode", "replace-partition",
            "--partition", "eu", "--index", "email", expect=1)
    assert "has no index 'email'" in r.err and "--mode replace-table" in r.err
    schema = tmp_path / "bad.sql"
    schema.write_text("CREATE TABLE p (id INT PRIMARY KEY, INDEX (nope))")
    r = run("import", ds, "--table", "p", "--input", src, "--schema", schema,
            "--mode", "replace-table", expect=1)
    assert "unknown column 'nope' in INDEX" in r.err
    assert live_version(ds) == 2


def test_duplicate_key_across_partitions_names_both(ds, tmp_path):
    run("import", ds, "--table", "p", "--input", people(tmp_path), "--primary-key", "id",
        "--partition-by", "region", "--index", "email")
    dup = people(tmp_path, "dup.csv", [["1000", "x@y", "us", "red"], ["5", "z@y", "us", "blue"]])
    files = data_files(ds)
    r = run("import", ds, "--table", "p", "--input", dup, "--mode", "append", expect=1)
    assert "duplicate primary key (id)=(5)" in r.err, r
    assert "dup.csv:3" in r.err and "for partition 'us'" in r.err and "partition 'apac'" in r.err, r
    assert data_files(ds) == files and live_version(ds) == 2
    # Replacing the partition that holds the key is fine: that row goes away.
    move = people(tmp_path, "move.csv", [["5", "moved@y", "apac", "red"]])
    run("import", ds, "--table", "p", "--input", move, "--mode", "replace-partition",
        "--partition", "apac")
    run("verify", ds)


def test_damaged_index_file_is_reported_by_name(ds, tmp_path):
    run("import", ds, "--table", "p", "--input", people(tmp_path), "--primary-key", "id",
        "--index", "email")
    idx = pathlib.Path(ds) / "data" / [f for f in data_files(ds) if f.endswith(".idx")][0]
    data = bytearray(idx.read_bytes())
    data[len(data) // 2] ^= 0x01
    idx.write_bytes(bytes(data))
    r = run("verify", ds, expect=1)
    assert idx.name in r.out and "checksum" in r.out, r
    # Scans do not need the index; lookups fail naming it.
    assert len(run("dump", ds, "--table", "p").out.splitlines()) == 301
    r = query(ds, "--lookup", "p", "7", expect=1)
    assert idx.name in r.err and "damaged" in r.err, r
    idx.unlink()
    r = query(ds, "--lookup", "p", "7", expect=1)
    assert idx.name in r.err and "missing" in r.err, r
