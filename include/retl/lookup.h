// Point lookups and key-ordered reads through the primary-key and secondary
// indexes of a snapshot (FORMAT.md §12).
//
// A Lookup is bound to one table of one Snapshot and holds it: rows it
// returns stay valid, unchanged, for as long as the Lookup lives, even while
// writers commit newer versions. To see new versions, take a new snapshot
// (Dataset::Latest() is cheap when nothing changed) and open a new Lookup;
// lookups in flight on the old one finish there. No lock is taken.
//
// Rows come back as RowViews: a position in a memory-mapped segment. Their
// getters decode one value in place (bit-packed, dictionary, frame of
// reference or plain), and strings are views of the mapped file: nothing is
// copied. A column chunk is checked (checksum and structure) the first time
// any lookup touches it, so a damaged file yields an error, never a wrong row.
//
// Thread-safety: a Lookup is immutable after Open; Get, GetBatch, Find and
// Scan may be called from many threads at once.
//
// Example (docs/lookups.md has a complete program):
//   auto ds = retl::Dataset::Open("/data/customers_ds");
//   auto lookup = retl::Lookup::Open((*ds)->Latest().value(), "customers");
//   retl::RowView row;
//   absl::StatusOr<bool> found = lookup->Get(retl::KeyValue::Int(42), &row);
//   if (found.ok() && *found) use(row.GetBytes(row.column_index("email")));
#ifndef RETL_LOOKUP_H_
#define RETL_LOOKUP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "retl/catalog.h"
#include "retl/dataset.h"
#include "retl/export.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// One column of a lookup key. Integers serve every integer-like column
// (DATE as days since 1970-01-01, TIMESTAMP as microseconds, DECIMAL as the
// unscaled integer); Text is parsed as canonical text (FORMAT.md §4.2) of
// the key column's type ("2024-01-31", "12.50", "true"), which is what the
// command-line tools pass.
//
// Keys compare as stored values (FORMAT.md §4.3): a FLOAT key holds a
// binary32 value, so KeyValue::Double(0.1) never equals a FLOAT 0.1 (the
// nearest binary32 differs), while KeyValue::Text("0.1") parses it as FLOAT
// and does; -0.0 and 0.0 are different keys.
class RETL_EXPORT KeyValue {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kInt128, kDouble, kBytes, kText };

  KeyValue() = default;  // NULL
  static KeyValue Null() { return KeyValue(); }
  static KeyValue Bool(bool v) { KeyValue k; k.kind_ = Kind::kBool; k.int_ = v; return k; }
  static KeyValue Int(int64_t v) { KeyValue k; k.kind_ = Kind::kInt; k.int_ = v; return k; }
  static KeyValue Int128(int128 v) { KeyValue k; k.kind_ = Kind::kInt128; k.int128_ = v; return k; }
  static KeyValue Double(double v) { KeyValue k; k.kind_ = Kind::kDouble; k.double_ = v; return k; }
  // STRING or BINARY bytes; not copied, so `v` must outlive the call.
  static KeyValue Bytes(std::string_view v) { KeyValue k; k.kind_ = Kind::kBytes; k.bytes_ = v; return k; }
  // Canonical text of any type; not copied.
  static KeyValue Text(std::string_view v) { KeyValue k; k.kind_ = Kind::kText; k.bytes_ = v; return k; }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  int64_t int_value() const { return int_; }
  int128 int128_value() const { return int128_; }
  double double_value() const { return double_; }
  std::string_view bytes_value() const { return bytes_; }

 private:
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  int128 int128_ = 0;
  double double_ = 0;
  std::string_view bytes_;
};

class Lookup;
struct LookupState;  // internal

// One row found by a Lookup: a position in a mapped segment. Copyable, no
// ownership; valid while the Lookup that returned it lives. Column indices
// are positions in the Lookup's projection (LookupOptions::columns); the
// getters do not check them (0 <= column < num_columns(), and the getter
// must suit the column's type), nor whether the row is valid(). For a NULL
// value the getters return an unspecified value of the right type (never
// reading outside the file); test IsNull() first.
class RETL_EXPORT RowView {
 public:
  RowView() = default;
  bool valid() const { return segment_ != nullptr; }

  int num_columns() const;
  const Field& field(int column) const;
  // Position of `name` in the projection, or -1.
  int column_index(std::string_view name) const;
  // The partition holding the row.
  const PartitionInfo& partition() const;

  bool IsNull(int column) const;
  bool GetBool(int column) const;
  // Integer-like columns (not DECIMAL(p>18)), widened to int64.
  int64_t GetInt(int column) const;
  // Any integer-like column, widened to int128.
  int128 GetInt128(int column) const;
  // FLOAT or DOUBLE.
  double GetDouble(int column) const;
  // STRING or BINARY: a view of the mapped file (or of a decompressed
  // chunk), valid while the Lookup lives.
  std::string_view GetBytes(int column) const;
  // Canonical text of the value (FORMAT.md §4.2); "" for NULL.
  std::string GetText(int column) const;

 private:
  friend class Lookup;
  friend struct LookupState;
  const LookupState* state_ = nullptr;
  const void* segment_ = nullptr;  // internal per-segment state
  const void* readers_ = nullptr;  // internal: the projected columns of the row's block
  RowIndex row_ = 0;  // within the block
};

struct RETL_EXPORT LookupOptions {
  // Columns returned, by name, in this order; empty returns every column.
  std::vector<std::string> columns;
  // Which index to look keys up in: empty for the primary key, else the name
  // of a secondary index (Schema::indexes). Lookups by a secondary index may
  // return many rows (Find).
  std::string index;
};

// A bound of a key-ordered Scan. `key` may be a prefix of the primary key
// (its first columns): with `inclusive`, every key starting with that prefix
// is inside the bound.
struct RETL_EXPORT KeyBound {
  std::vector<KeyValue> key;
  bool inclusive = true;
};

class RETL_EXPORT Lookup {
 public:
  // kNotFound for an unknown table, column or index, naming what exists.
  static absl::StatusOr<Lookup> Open(std::shared_ptr<const Snapshot> snapshot,
                                     std::string_view table, const LookupOptions& options = {});

  Lookup(Lookup&&) noexcept;
  Lookup& operator=(Lookup&&) noexcept;
  ~Lookup();

  const Snapshot& snapshot() const;
  const TableInfo& table() const;
  // The columns of the index used, in key order.
  const std::vector<Field>& key_fields() const;
  // The projection: the fields every RowView returns.
  const std::vector<Field>& fields() const;
  // True when the index is the primary key: at most one row per key.
  bool unique() const;

  // The row with this key (one KeyValue per key column). Returns false if
  // there is none (a key with a NULL column matches nothing);
  // kInvalidArgument for a key of the wrong arity or types; kDataLoss for
  // damaged files. For a secondary index, returns the first matching row.
  absl::StatusOr<bool> Get(std::span<const KeyValue> key, RowView* row) const;
  absl::StatusOr<bool> Get(const KeyValue& key, RowView* row) const {
    return Get(std::span<const KeyValue>(&key, 1), row);
  }

  // Looks up keys.size() / key_fields().size() keys at once (the values of
  // each key consecutive) and calls fn(i, row) for each key i that has a
  // row, in ascending i. The keys go through a software pipeline: while one
  // key's row is compared, the index slots and row values of the next keys
  // are already on their way into the cache, so a batch costs less per key
  // than single Gets (about 1.4x their throughput on the reference table;
  // bench/README.md has the figures). The values of `row` are in cache when
  // fn runs: read them there for the full gain.
  // On error, fn has been called for some keys and not others.
  absl::Status GetBatch(std::span<const KeyValue> keys,
                        absl::FunctionRef<void(size_t, const RowView&)> fn) const;
  // As above, collecting the rows: rows[i] is the row of key i, or a
  // RowView with valid() false. Reading the rows afterwards is slower than
  // in fn, as a large batch's values no longer fit in the cache.
  absl::Status GetBatch(std::span<const KeyValue> keys, std::vector<RowView>* rows) const;

  // Appends every row with this key to `rows` (many for a non-unique
  // secondary index), partition by partition, in key order within a segment.
  absl::Status Find(std::span<const KeyValue> key, std::vector<RowView>* rows) const;

  // Calls `fn` for the rows whose primary key lies between the bounds (unset:
  // unbounded) in ascending key order across the whole table, until `fn`
  // returns false. Primary key only.
  absl::Status Scan(const std::optional<KeyBound>& lower, const std::optional<KeyBound>& upper,
                    const std::function<bool(const RowView&)>& fn) const;

 private:
  explicit Lookup(std::unique_ptr<LookupState> state);
  std::unique_ptr<LookupState> state_;
};

}  // namespace retl

#endif  // RETL_LOOKUP_H_
