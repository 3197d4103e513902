"""Writes the small Parquet files format/parquet_test.cc reads (run with pyarrow;
the files are committed so the C++ tests need no Python)."""
import datetime
import decimal
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
N = 200
table = pa.table({
    "id": pa.array(range(N), pa.int64()),
    "small": pa.array([None if i % 7 == 0 else i % 100 - 50 for i in range(N)], pa.int8()),
    "n": pa.array([(i * 7919) % 100000 - 50000 for i in range(N)], pa.int32()),
    "x": pa.array([None if i % 3 == 0 else i * 0.25 for i in range(N)], pa.float64()),
    "f": pa.array([i * 0.5 for i in range(N)], pa.float32()),
    "name": pa.array([None if i % 5 == 0 else f"name_{i // 4}" for i in range(N)], pa.string()),
    "raw": pa.array([bytes([i % 256]) * (i % 5) for i in range(N)], pa.binary()),
    "ok": pa.array([None if i % 9 == 0 else i % 2 == 0 for i in range(N)], pa.bool_()),
    "day": pa.array([datetime.date(1969, 12, 1) + datetime.timedelta(days=i) for i in range(N)], pa.date32()),
    "ts": pa.array([-1500 + 1000003 * i for i in range(N)], pa.timestamp("ns")),
    "price": pa.array([decimal.Decimal(i - 100) / 100 for i in range(N)], pa.decimal128(9, 2)),
    "big": pa.array([decimal.Decimal(-i) * 10**20 for i in range(N)], pa.decimal128(38, 0)),
})
common = dict(data_page_size=512, row_group_size=70, write_page_checksum=True)
pq.write_table(table, HERE / "dict_snappy_v1.parquet", compression="snappy",
               data_page_version="1.0", **common)
pq.write_table(table, HERE / "plain_none_v2.parquet", compression="none", use_dictionary=False,
               data_page_version="2.0", **common)
pq.write_table(table, HERE / "delta_zstd_v2.parquet", compression="zstd", use_dictionary=False,
               data_page_version="2.0",
               column_encoding={"n": "DELTA_BINARY_PACKED", "id": "DELTA_BINARY_PACKED",
                                "name": "DELTA_BYTE_ARRAY", "raw": "DELTA_LENGTH_BYTE_ARRAY",
                                "x": "BYTE_STREAM_SPLIT", "f": "BYTE_STREAM_SPLIT", "ok": "RLE"},
               **common)
