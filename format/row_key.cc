#include "format/row_key.h"
#include "format/strings.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/text.h"

namespace retl {

int CompareKeys(const std::vector<Column>& a, RowIndex i, const std::vector<Column>& b, RowIndex j,
                const std::vector<int>& key) {
  for (int k : key) {
    int c = a[k].CompareValues(i, b[k], j);
    if (c != 0) return c;
  }
  return 0;
}

std::vector<RowIndex> SortByKey(const std::vector<Column>& columns, const std::vector<int>& key) {
  const RowIndex n = columns[key[0]].size();
  std::vector<RowIndex> order(n);
  const Column& first = columns[key[0]];
  PhysicalType p = first.type().physical();
  bool int_key = key.size() == 1 && p != PhysicalType::kBytes && p != PhysicalType::kInt128 &&
                 p != PhysicalType::kFloat && p != PhysicalType::kDouble;
  if (int_key) {
    // Fast path for the common single integer key: sort (key, row) pairs.
    std::vector<std::pair<int64_t, RowIndex>> pairs(n);
    for (RowIndex i = 0; i < n; ++i) pairs[i] = {first.GetInt(i), i};
    std::sort(pairs.begin(), pairs.end());
    for (RowIndex i = 0; i < n; ++i) order[i] = pairs[i].second;
    return order;
  }
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](RowIndex x, RowIndex y) {
    return CompareKeys(columns, x, columns, y, key) < 0;
  });
  return order;
}

void AppendKeyBytes(const std::vector<Column>& columns, const std::vector<int>& key, RowIndex row,
                    std::string* out) {
  for (int k : key) {
    const Column& c = columns[k];
    if (c.type().physical() == PhysicalType::kBytes) {
      std::string_view v = c.GetBytes(row);
      uint64_t len = v.size();
      out->append(reinterpret_cast<const char*>(&len), sizeof(len));
      out->append(v);
    } else {
      int w = c.type().FixedWidth();
      out->append(reinterpret_cast<const char*>(c.fixed_data()) + row * w, w);
    }
  }
}

std::string KeyText(const Schema& schema, const std::vector<Column>& columns,
                    const std::vector<int>& key_columns_in_columns, RowIndex row) {
  std::vector<std::string> names, values;
  for (size_t k = 0; k < schema.primary_key.size(); ++k) {
    names.push_back(schema.fields[schema.primary_key[k]].name);
    values.push_back(ValueText(columns[key_columns_in_columns[k]], row));
  }
  return StrCat("(", absl::StrJoin(names, ", "), ")=(", absl::StrJoin(values, ", "), ")");
}

}  // namespace retl
