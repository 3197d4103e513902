#include "format/row_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace retl {
namespace {

// The order SortByKey must give: stable by key.
std::vector<RowIndex> Reference(const std::vector<Column>& columns, const std::vector<int>& key) {
  std::vector<RowIndex> order(columns[key[0]].size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](RowIndex x, RowIndex y) { return CompareKeys(columns, x, columns, y, key) < 0; });
  return order;
}

RowIndex FirstDuplicate(const std::vector<Column>& columns, const std::vector<int>& key,
                        const std::vector<RowIndex>& order) {
  for (size_t k = 1; k < order.size(); ++k) {
    if (CompareKeys(columns, order[k - 1], columns, order[k], key) == 0) return static_cast<RowIndex>(k);
  }
  return -1;
}

// Sizes that make one run, several runs, and an odd number of runs (merged in
// parts on every thread count), with many equal keys so that stability shows.
TEST(SortByKeyTest, StableOnAnyThreadCount) {
  std::mt19937_64 rng(5);
  for (RowIndex n : {0, 1, 1000, 65536 * 3 + 17, 65536 * 5 + 3}) {
    std::vector<Column> columns{Column(DataType::Of(TypeId::kBigInt)), Column(DataType::Of(TypeId::kString)),
                                Column(DataType::Of(TypeId::kInt))};
    for (RowIndex r = 0; r < n; ++r) {
      columns[0].AppendInt(static_cast<int64_t>(rng() % 5000) - 2500);
      columns[1].AppendBytes(std::string(1 + rng() % 3, static_cast<char>('a' + rng() % 4)));
      columns[2].AppendInt(static_cast<int64_t>(rng() % 7));
    }
    for (const std::vector<int>& key : {std::vector<int>{0}, std::vector<int>{1, 2}}) {
      const std::vector<RowIndex> expected = Reference(columns, key);
      for (int threads : {1, 2, 3, 4, 7}) {
        RowIndex duplicate = -2;
        const std::vector<RowIndex> order = SortByKey(columns, key, threads, &duplicate);
        // (The integer path sorts (key, row) pairs: ties by row, the stable order.)
        ASSERT_EQ(order, expected) << "n " << n << " key columns " << key.size() << " threads " << threads;
        ASSERT_EQ(duplicate, FirstDuplicate(columns, key, expected)) << "n " << n << " threads " << threads;
      }
    }
  }
}

}  // namespace
}  // namespace retl
