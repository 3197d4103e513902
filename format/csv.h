// CSV input for `retl-build import` (RFC 4180): reading possibly compressed
// files, splitting records, converting fields to typed columns and inferring a
// schema. Every error names the file, the line (1-based, physical line where
// the record starts) and the column.
//
// Conventions (as PostgreSQL's CSV COPY):
//   - an unquoted field equal to `null_marker` (default: the empty field) is
//     NULL; a quoted field is never NULL, so "" is the empty string;
//   - fields may be quoted with `quote`; a doubled quote inside is one quote;
//     quoted fields may contain delimiters and newlines;
//   - a quote that does not start a field is an ordinary character (5'11");
//     text between a closing quote and the next delimiter or line end is an
//     error;
//   - records end with LF or CRLF (a lone CR is data); a final record without
//     a newline counts; a UTF-8 byte-order mark at the start of a file is
//     skipped;
//   - an empty line is a record of one empty field: it is skipped when
//     records have more than one field, and is a NULL (with the default
//     null_marker) when they have one;
//   - with `header`, the first record names the columns and they are matched
//     to the target fields by exact name, in any order.
//
// Thread-safety: functions are reentrant; objects are not shared.
#ifndef RETL_FORMAT_CSV_H_
#define RETL_FORMAT_CSV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

enum class InputCompression { kAuto, kNone, kGzip, kZstd };

// Parses "auto", "none", "gzip"/"gz", "zstd"/"zst".
absl::StatusOr<InputCompression> ParseInputCompression(std::string_view name);

// Reads the whole file at `path` into memory, decompressing it. kAuto decides
// by the content's magic bytes (gzip 1f 8b, zstd 28 b5 2f fd), so a misnamed
// file still reads. Damaged compressed input is kInvalidArgument naming the
// file. Concatenated gzip members and zstd frames are all read.
absl::StatusOr<std::string> ReadInputFile(const std::string& path, InputCompression compression);

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  std::string null_marker;  // unquoted field equal to this is NULL
  InputCompression compression = InputCompression::kAuto;
  // Threads for parsing (0: one per core). A file is parsed on several only
  // when it has no quote character after its header; the result is the same.
  int threads = 0;
  // Where a compressed input read in batches (ReadCsvBatches) or inferred
  // from in full is decompressed to, an unnamed file, so that it need not fit
  // in memory. Empty: decompressed in memory.
  std::string temp_dir;
};

// Where an imported row came from, for error messages.
struct RowSource {
  int file = 0;      // index into the input paths
  int64_t line = 0;  // 1-based physical line where the record starts
};

// Rows read from one or more CSV files, converted to `fields`.
struct CsvData {
  std::vector<std::string> paths;
  std::vector<Column> columns;     // one per target field, in field order
  std::vector<RowSource> sources;  // one per row
  RowIndex num_rows() const { return static_cast<RowIndex>(sources.size()); }
  // "path:line" of row `row`.
  std::string Describe(RowIndex row) const;
};

// Called now and then while reading (about every megabyte, and once at the
// end with consumed == total) with (bytes consumed so far, total bytes of all
// decompressed inputs, rows so far). May be empty. Inputs are decompressed one
// at a time, so the total is exact for the files read so far and estimated for
// the rest (gzip trailer or zstd frame header size, else 4x the compressed
// size).
using CsvProgress = std::function<void(int64_t, int64_t, RowIndex)>;

// Reads `paths` into columns of `fields`. With a header, every header name must
// be one of `fields` (else an error naming the file and the unknown column, and
// suggesting a case-insensitive match if there is one); a field missing from
// the header is filled from `constants` (canonical text, one value for every
// row, never NULL) if it has an entry there, else it is an error; a field both
// in a header and in `constants` is read from the file (the caller checks its
// values); duplicate header names are an error. Without a header, each record must have exactly the fields that have
// no constant (all fields.size() of them when `constants` is empty), in field
// order. Every file is opened before any is read, so a missing one fails fast
// (kNotFound "cannot open 'FILE': No such file or directory"); with a header,
// an empty file is an error. A record with the
// wrong number of fields, or a field that does not parse as its type, or a
// NULL in a NOT NULL field, fails the whole read with
// "FILE:LINE: column 'NAME': cannot parse 'abc' as DOUBLE" or
// "FILE:LINE: expected 12 fields, found 11". A STRING field that is not valid
// UTF-8 is an error too.
absl::StatusOr<CsvData> ReadCsvFiles(const std::vector<std::string>& paths,
                                     const std::vector<Field>& fields, const CsvOptions& options,
                                     const std::map<std::string, std::string>& constants = {},
                                     const CsvProgress& progress = {});

// ReadCsvFiles in batches, for inputs larger than memory: `add` gets the rows
// read so far whenever they take about `batch_bytes` (as ColumnBytes counts,
// retl/writer.h), and the rest at the end; it gets at least one batch. Each
// batch's paths are all the paths. Parsed text is given back to the kernel
// as it goes. Errors are those of ReadCsvFiles, and the first error `add`
// returns stops the read.
using CsvBatchAdd = std::function<absl::Status(CsvData batch)>;
absl::Status ReadCsvBatches(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                            const CsvOptions& options, const std::map<std::string, std::string>& constants,
                            const CsvProgress& progress, int64_t batch_bytes, const CsvBatchAdd& add);

// Infers fields from the data of `paths` (all records are looked at). Column
// names come from the header (or are column1, column2, ... without one); every
// file must have the same header. A column's type is the first of BOOLEAN
// (true/false only, any case), BIGINT, DOUBLE, DATE, TIMESTAMP, STRING that
// parses every non-NULL value; a column with no non-NULL value is STRING.
// `overrides` maps column names to the type to use instead (an unknown name is
// an error).
// Inferred fields are nullable.
absl::StatusOr<std::vector<Field>> InferCsvSchema(const std::vector<std::string>& paths,
                                                  const CsvOptions& options,
                                                  const std::map<std::string, DataType>& overrides);

// InferCsvSchema from a sample: the records that start in the first
// `sample_bytes` of each file. `settled` gets, per field, whether its type is
// final once every record reads with it (reading with a type fails on a
// value the type cannot hold, and then the caller infers from all records):
// not for BOOLEAN (reading accepts more spellings, such as t, yes and 1, than
// inference), nor for a column with no value in the sample. Read those as
// STRING, then SettleCsvColumns. When the sample is every record, all are
// settled.
absl::StatusOr<std::vector<Field>> InferCsvSchemaFromSample(const std::vector<std::string>& paths,
                                                            const CsvOptions& options,
                                                            const std::map<std::string, DataType>& overrides,
                                                            int64_t sample_bytes, std::vector<bool>* settled);

// For each field not settled, whose column was read as STRING: the type
// InferCsvSchema gives those values, and the column converted to it, on up
// to `threads` threads (0: one per core).
absl::Status SettleCsvColumns(const std::vector<bool>& settled, std::vector<Field>* fields,
                              std::vector<Column>* columns, int threads = 0);

}  // namespace retl

#endif  // RETL_FORMAT_CSV_H_
