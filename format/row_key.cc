#include "format/row_key.h"
#include "format/strings.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/parallel.h"
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

namespace {

// Sorts `v` by `less` (stably, if `less` breaks no ties by position): runs
// sorted on their own threads, then merged pairwise, each round in parallel.
template <typename T, typename Less>
void ParallelSort(std::vector<T>* v, Less less, int threads) {
  const size_t n = v->size();
  const size_t parts = std::min<size_t>(ThreadCount(threads), std::max<size_t>(1, n / 65536));
  if (parts <= 1) {
    std::stable_sort(v->begin(), v->end(), less);
    return;
  }
  std::vector<size_t> bounds;
  for (size_t k = 0; k <= parts; ++k) bounds.push_back(n * k / parts);
  ParallelFor(parts, threads, [&](size_t k) {
    std::stable_sort(v->begin() + bounds[k], v->begin() + bounds[k + 1], less);
  });
  std::vector<T> other(n);
  while (bounds.size() > 2) {
    std::vector<size_t> merged;
    const size_t runs = bounds.size() - 1;
    ParallelFor((runs + 1) / 2, threads, [&](size_t k) {
      const size_t lo = bounds[2 * k], mid = bounds[std::min(2 * k + 1, runs)],
                   hi = bounds[std::min(2 * k + 2, runs)];
      std::merge(v->begin() + lo, v->begin() + mid, v->begin() + mid, v->begin() + hi,
                 other.begin() + lo, less);
    });
    for (size_t k = 0; k < runs; k += 2) merged.push_back(bounds[k]);
    merged.push_back(n);
    bounds = std::move(merged);
    v->swap(other);
  }
}

}  // namespace

std::vector<RowIndex> SortByKey(const std::vector<Column>& columns, const std::vector<int>& key,
                                int threads, RowIndex* duplicate) {
  const RowIndex n = columns[key[0]].size();
  std::vector<RowIndex> order(n);
  if (duplicate != nullptr) *duplicate = -1;
  const Column& first = columns[key[0]];
  const bool int_key = key.size() == 1 && ComparesAsInt64(first.type().physical());
  if (int_key) {
    // Fast path for the common single integer key: sort (key, row) pairs.
    std::vector<std::pair<int64_t, RowIndex>> pairs(n);
    for (RowIndex i = 0; i < n; ++i) pairs[i] = {first.GetInt(i), i};
    ParallelSort(&pairs, std::less<>(), threads);
    for (RowIndex i = 0; i < n; ++i) order[i] = pairs[i].second;
    if (duplicate != nullptr) {
      for (RowIndex k = 1; k < n; ++k) {
        if (pairs[k - 1].first == pairs[k].first) {
          *duplicate = k;
          break;
        }
      }
    }
    return order;
  }
  std::iota(order.begin(), order.end(), 0);
  ParallelSort(&order, [&](RowIndex x, RowIndex y) { return CompareKeys(columns, x, columns, y, key) < 0; },
               threads);
  if (duplicate != nullptr) {
    for (RowIndex k = 1; k < n; ++k) {
      if (CompareKeys(columns, order[k - 1], columns, order[k], key) == 0) {
        *duplicate = k;
        break;
      }
    }
  }
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
