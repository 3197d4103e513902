// Parquet input for `retl-build import`: our own reader of the Apache Parquet
// file format (footer in the Thrift compact protocol, column chunks of data
// pages), for the flat files warehouses export. docs/import.md lists what is
// read and how each Parquet type maps to a rETL type.
//
// Read: every physical type (BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE,
// BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) with the common logical types (STRING,
// ENUM, JSON, INT(8/16/32/64, signed or not), DECIMAL, DATE, TIMESTAMP in
// millis/micros/nanos, FLOAT16, UUID); encodings PLAIN, PLAIN_DICTIONARY,
// RLE_DICTIONARY, RLE, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT; data pages v1 and v2; compression
// none, Snappy, gzip, zstd, LZ4 (raw and Hadoop-framed) and Brotli; page
// CRCs are checked when present.
//
// Not read (an error naming the file and the column): nested columns (LIST,
// MAP, groups, repeated fields), TIME and INTERVAL, encrypted files, column
// chunks in other files.
//
// Errors name the file, and for a value the row (1-based within the file)
// and its row group: "a.parquet: row 1234 (row group 2): column 'id': NULL in
// NOT NULL column". A damaged file is an error, never a wrong value where the
// format can tell (sizes, offsets, counts, CRCs when written).
//
// Thread-safety: functions are reentrant.
#ifndef RETL_FORMAT_PARQUET_H_
#define RETL_FORMAT_PARQUET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// Whether the file at `path` starts with the Parquet magic "PAR1". False
// for a file that cannot be read.
bool HasParquetMagic(const std::string& path);

// Rows read from one or more Parquet files, converted to the target fields.
struct ParquetData {
  std::vector<std::string> paths;
  std::vector<RowIndex> file_end;  // per file: rows of it and of the files before
  std::vector<Column> columns;     // one per target field, in field order
  RowIndex num_rows() const { return file_end.empty() ? 0 : file_end.back(); }
  // A batch of ReadParquetBatches holds rows of one file: paths[batch_file],
  // from its row batch_first_row (0-based) on. -1 otherwise.
  int batch_file = -1;
  RowIndex batch_first_row = 0;
  // "path: row N" of row `row` (N is 1-based within its file).
  std::string Describe(RowIndex row) const;
};

// As CsvProgress: (bytes consumed, total bytes of all inputs, rows so far).
using ParquetProgress = std::function<void(int64_t, int64_t, RowIndex)>;

// Reads `paths` into columns of `fields`, matched by exact column name: every
// file column must be a field (else an error naming it), and every field must
// be a file column or have an entry in `constants` (canonical text, one value
// for every row). A field both in the file and in `constants` is read from
// the file. Values whose Parquet type differs from the field's are converted
// (integers with a range check, through canonical text otherwise); a value
// that does not convert, or a NULL in a NOT NULL field, is an error naming
// file, row and column. `threads` (0 = one per core) decode column chunks in
// parallel; the result does not depend on it.
absl::StatusOr<ParquetData> ReadParquetFiles(const std::vector<std::string>& paths,
                                             const std::vector<Field>& fields,
                                             const std::map<std::string, std::string>& constants = {},
                                             const ParquetProgress& progress = {}, int threads = 0);

// ReadParquetFiles in batches, for inputs larger than memory: a row group at
// a time, `add` gets the rows read so far whenever they take `batch_bytes`
// (as ColumnBytes counts, retl/writer.h) and at the end of each file, so that
// a batch holds rows of one file. Errors are those of ReadParquetFiles, and
// the first error `add` returns stops the read.
using ParquetBatchAdd = std::function<absl::Status(ParquetData batch)>;
absl::Status ReadParquetBatches(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                                const std::map<std::string, std::string>& constants,
                                const ParquetProgress& progress, int threads, int64_t batch_bytes,
                                const ParquetBatchAdd& add);

// The fields of the files' columns, all nullable, in file order (mapping in
// docs/import.md). Every file must have the same column names and types.
// `overrides` replaces the type of the named columns (an unknown name is an
// error).
absl::StatusOr<std::vector<Field>> InferParquetSchema(const std::vector<std::string>& paths,
                                                      const std::map<std::string, DataType>& overrides);

}  // namespace retl

#endif  // RETL_FORMAT_PARQUET_H_
