// Primary-key operations over in-memory columns: ordering, hashing bytes and
// the text shown in error messages. Rows are sorted by key within a segment
// (FORMAT.md §3.3), keys compare column by column in key order, each by
// Column::CompareValues.
#ifndef RETL_FORMAT_ROW_KEY_H_
#define RETL_FORMAT_ROW_KEY_H_

#include <string>
#include <vector>

#include "retl/types.h"

namespace retl {

// Whether values of physical type `p` order as Column::GetInt's int64 does
// (the fast path for single-column keys).
inline bool ComparesAsInt64(PhysicalType p) {
  return p != PhysicalType::kBytes && p != PhysicalType::kInt128 && p != PhysicalType::kFloat &&
         p != PhysicalType::kDouble;
}

// Three-way comparison of the key of row i of `a` and row j of `b`; `key`
// lists column indices into both. Key columns are never NULL.
int CompareKeys(const std::vector<Column>& a, RowIndex i, const std::vector<Column>& b, RowIndex j,
                const std::vector<int>& key);

// Row indices of `columns` in ascending key order (stable), sorted on up to
// `threads` threads (0: one per core). If `duplicate` is given, it is set to
// the first position k where rows order[k-1] and order[k] have equal keys,
// or -1.
std::vector<RowIndex> SortByKey(const std::vector<Column>& columns, const std::vector<int>& key,
                                int threads = 1, RowIndex* duplicate = nullptr);

// Appends an unambiguous byte encoding of the key of `row`, for hashing.
void AppendKeyBytes(const std::vector<Column>& columns, const std::vector<int>& key, RowIndex row,
                    std::string* out);

// "(customer_id)=(42)" or "(a, b)=(1, x)", as PostgreSQL words it.
std::string KeyText(const Schema& schema, const std::vector<Column>& columns,
                    const std::vector<int>& key_columns_in_columns, RowIndex row);

}  // namespace retl

#endif  // RETL_FORMAT_ROW_KEY_H_
