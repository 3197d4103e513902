// Running independent tasks on the machine's cores.
//
// Thread-safety: ParallelFor may be called from any thread; `fn` must be safe
// to call concurrently for different indexes.
#ifndef RETL_FORMAT_PARALLEL_H_
#define RETL_FORMAT_PARALLEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

namespace retl {

// `threads` if positive, else one per core (at most 64).
int ThreadCount(int threads);

// Calls fn(i) for every i in [0, n), on at most ThreadCount(threads) threads
// (the calling thread is one of them), and returns when all calls have
// returned. Indexes are handed out in increasing order, so put the largest
// tasks first. fn must not throw.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

// [0, rows) cut into consecutive ranges for work on all cores: one per 65,536
// rows, at least one, at most 64.
class RowRanges {
 public:
  explicit RowRanges(int64_t rows) : rows_(rows), count_(rows / 65536 < 1 ? 1 : rows / 65536 > 64 ? 64 : rows / 65536) {}
  size_t size() const { return static_cast<size_t>(count_); }
  // Range k: [first, second).
  std::pair<int64_t, int64_t> operator[](size_t k) const {
    const int64_t i = static_cast<int64_t>(k);
    return {rows_ * i / count_, rows_ * (i + 1) / count_};
  }

 private:
  int64_t rows_;
  int64_t count_;
};

}  // namespace retl

#endif  // RETL_FORMAT_PARALLEL_H_
