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
  const size_t cores = static_cast<size_t>(ThreadCount(threads));
  while (bounds.size() > 2) {
    std::vector<size_t> merged;
    const size_t runs = bounds.size() - 1;
    // Each pair of runs is merged in `pieces` parts, so that the last rounds
    // (few pairs) still use every core: part p is the output's p-th slice,
    // whose inputs are found by binary search.
    const size_t pairs = (runs + 1) / 2;
    const size_t pieces = std::max<size_t>(1, cores / pairs);
    ParallelFor(pairs * pieces, threads, [&](size_t task) {
      const size_t k = task / pieces, p = task % pieces;
      const size_t lo = bounds[2 * k], mid = bounds[std::min(2 * k + 1, runs)],
                   hi = bounds[std::min(2 * k + 2, runs)];
      const T* a = v->data() + lo;
      const T* b = v->data() + mid;
      const size_t na = mid - lo, nb = hi - mid;
      // How many of the first `out` merged values come from a (ties: a first).
      auto from_a = [&](size_t out) {
        size_t first = out > nb ? out - nb : 0, last = std::min(out, na);
        while (first < last) {
          const size_t i = first + (last - first) / 2, j = out - i;
          if (j == 0 || i == na || less(b[j - 1], a[i])) {
            last = i;
          } else {
            first = i + 1;
          }
        }
        return first;
      };
      const size_t begin = (na + nb) * p / pieces, end = (na + nb) * (p + 1) / pieces;
      const size_t ia = from_a(begin), ib = from_a(end);
      std::merge(a + ia, a + ib, b + (begin - ia), b + (end - ib), other.begin() + lo + begin, less);
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
    const RowRanges ranges(n);
    ParallelFor(ranges.size(), threads, [&](size_t k) {
      for (auto [i, end] = ranges[k]; i < end; ++i) pairs[i] = {first.GetInt(i), i};
    });
    ParallelSort(&pairs, std::less<>(), threads);
    ParallelFor(ranges.size(), threads, [&](size_t k) {
      for (auto [i, end] = ranges[k]; i < end; ++i) order[i] = pairs[i].second;
    });
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
