#include "query/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "format/segment.h"
#include "format/strings.h"
#include "format/text.h"
#include "query/expr.h"
#include "query/parser.h"
#include "query/spill.h"
#include "retl/lookup.h"
#include "xxhash.h"

namespace retl {

std::optional<std::string> QueryResult::Text(size_t r, size_t c) const {
  for (const Batch& b : batches) {
    if (r < b.size) {
      if (!b.columns[c].IsValid(r)) return std::nullopt;
      return ValueText(b.columns[c], r);
    }
    r -= b.size;
  }
  return std::nullopt;
}

// Lookups opened for index probes, kept while statements use the same
// snapshot: opening one checks the table's index files and builds per-segment
// state, which would otherwise dominate a prepared point lookup.
class LookupCache {
 public:
  absl::StatusOr<std::shared_ptr<const Lookup>> Get(const std::shared_ptr<const Snapshot>& snapshot,
                                                    const std::string& table, const std::string& index) {
    if (snapshot != snapshot_) {
      entries_.clear();
      snapshot_ = snapshot;
    }
    for (const Entry& e : entries_) {
      if (e.table == table && e.index == index) return e.lookup;
    }
    LookupOptions options;
    options.index = index;
    RETL_ASSIGN_OR_RETURN(Lookup l, Lookup::Open(snapshot, table, options));
    auto shared = std::make_shared<const Lookup>(std::move(l));
    if (entries_.size() >= 32) entries_.clear();
    entries_.push_back(Entry{table, index, shared});
    return shared;
  }

 private:
  struct Entry {
    std::string table;
    std::string index;
    std::shared_ptr<const Lookup> lookup;
  };
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<Entry> entries_;
};

namespace {

// Adds "line L, column C: " to errors raised while running, when they lack one.
absl::Status WithPos(absl::Status s, SourcePos pos) {
  if (s.ok() || absl::StartsWith(s.message(), "line ")) return s;
  return absl::Status(s.code(), StrCat(pos.Location(), ": ", s.message()));
}

// ---------------------------------------------------------------------------
// Operators

class Operator {
 public:
  virtual ~Operator() = default;
  // Fills `out` with the next non-empty batch; false at the end.
  absl::StatusOr<bool> Pull(Batch* out) {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<bool> r = Next(out);
    nanos_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (r.ok() && *r) rows_ += static_cast<int64_t>(out->size);
    return r;
  }
  virtual std::string Describe() const = 0;
  std::vector<Operator*> children;
  int64_t rows() const { return rows_; }
  int64_t nanos() const { return nanos_; }
  // Extra EXPLAIN ANALYZE detail.
  virtual std::string RuntimeDetail() const { return ""; }
  // Adds the figures of `other`, a plan of the same shape run by another
  // thread, to this plan's, operator by operator.
  void AddFigures(const Operator& other) {
    rows_ += other.rows_;
    nanos_ += other.nanos_;
    for (size_t i = 0; i < children.size() && i < other.children.size(); ++i) {
      if (children[i] != nullptr && other.children[i] != nullptr) children[i]->AddFigures(*other.children[i]);
    }
  }

 protected:
  virtual absl::StatusOr<bool> Next(Batch* out) = 0;
  void CountRows(int64_t n, int64_t nanos) {
    rows_ += n;
    nanos_ += nanos;
  }

 private:
  int64_t rows_ = 0;
  int64_t nanos_ = 0;
};
using OpPtr = std::unique_ptr<Operator>;

// One row and no columns: SELECT without FROM.
class SingleRow final : public Operator {
 public:
  std::string Describe() const override { return "SINGLE ROW"; }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (done_) return false;
    done_ = true;
    out->columns.clear();
    out->size = 1;
    return true;
  }

 private:
  bool done_ = false;
};

// Vector of `rows` values from a decoded chunk column, starting at `begin`.
void ColumnToVector(const std::shared_ptr<const Column>& col, RowIndex begin, size_t n, SqlType t, Vector* v) {
  v->Reset(t, n);
  const std::vector<uint8_t>& validity = col->validity();
  if (!validity.empty()) {
    std::memcpy(v->valid.data(), validity.data() + begin, n);
  }
  switch (col->type().physical()) {
    case PhysicalType::kBool: {
      const uint8_t* p = col->fixed_data() + begin;
      for (size_t i = 0; i < n; ++i) v->i64[i] = p[i] != 0;
      break;
    }
    case PhysicalType::kInt8: {
      const int8_t* p = col->values<int8_t>() + begin;
      for (size_t i = 0; i < n; ++i) v->i64[i] = p[i];
      break;
    }
    case PhysicalType::kInt16: {
      const int16_t* p = col->values<int16_t>() + begin;
      for (size_t i = 0; i < n; ++i) v->i64[i] = p[i];
      break;
    }
    case PhysicalType::kInt32: {
      const int32_t* p = col->values<int32_t>() + begin;
      for (size_t i = 0; i < n; ++i) v->i64[i] = p[i];
      break;
    }
    case PhysicalType::kInt64:
      std::memcpy(v->i64.data(), col->values<int64_t>() + begin, n * sizeof(int64_t));
      break;
    case PhysicalType::kInt128:
      std::memcpy(static_cast<void*>(v->i128.data()), col->fixed_data() + begin * 16, n * 16);
      break;
    case PhysicalType::kFloat: {
      const float* p = col->values<float>() + begin;
      for (size_t i = 0; i < n; ++i) v->f64[i] = p[i];
      break;
    }
    case PhysicalType::kDouble:
      std::memcpy(v->f64.data(), col->values<double>() + begin, n * sizeof(double));
      break;
    case PhysicalType::kBytes: {
      const uint64_t* off = col->offsets().data() + begin;
      const char* bytes = col->bytes().data();
      for (size_t i = 0; i < n; ++i) v->str[i] = std::string_view(bytes + off[i], off[i + 1] - off[i]);
      v->keep.push_back(col);
      break;
    }
  }
}

// Vector of rows [begin, begin + n) of an uncompressed chunk, read in place:
// strings are views of the mapped file, which the caller keeps alive.
void ReaderToVector(const ChunkReader& r, RowIndex begin, size_t n, SqlType t, Vector* v) {
  v->Resize(t, n);
  r.ReadValidity(begin, n, v->valid.data());
  switch (r.type().physical()) {
    case PhysicalType::kBytes:
      for (size_t i = 0; i < n; ++i) {
        v->str[i] = v->valid[i] ? r.GetBytes(begin + static_cast<RowIndex>(i)) : std::string_view();
      }
      break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: r.ReadDoubles(begin, n, v->f64.data()); break;
    case PhysicalType::kInt128:
      for (size_t i = 0; i < n; ++i) v->i128[i] = r.GetInt128(begin + static_cast<RowIndex>(i));
      break;
    default: r.ReadInts(begin, n, v->i64.data()); break;
  }
  // NULL rows hold zero, as Vector::Reset leaves them.
  if (std::memchr(v->valid.data(), 0, n) != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      if (v->valid[i]) continue;
      switch (t.storage()) {
        case Storage::kInt64: v->i64[i] = 0; break;
        case Storage::kInt128: v->i128[i] = 0; break;
        case Storage::kDouble: v->f64[i] = 0; break;
        default: break;
      }
    }
  }
}

// As ReaderToVector, for a dictionary-encoded string chunk whose entries are
// `dictionary`: the vector carries the codes and the dictionary.
void DictionaryToVector(const ChunkReader& r, const std::shared_ptr<const std::vector<std::string_view>>& dictionary,
                        RowIndex begin, size_t n, SqlType t, Vector* v) {
  v->Resize(t, n);
  r.ReadValidity(begin, n, v->valid.data());
  v->codes.resize(n);
  r.ReadCodes(begin, n, v->codes.data());
  const std::vector<std::string_view>& d = *dictionary;
  for (size_t i = 0; i < n; ++i) {
    if (!v->valid[i]) {
      v->codes[i] = 0;
      v->str[i] = std::string_view();
    } else {
      v->str[i] = d[v->codes[i]];  // checked: DecodeChunk bounds every valid row's code
    }
  }
  v->dictionary = dictionary;
}

struct BlockRef {
  std::shared_ptr<const Segment> segment;
  size_t block;
  const PartitionInfo* partition;
};

// Simple predicate usable against chunk statistics.
struct StatPredicate {
  int column;
  std::string op;  // = < <= > >= in isnull
  std::vector<Value> values;
};

void GatherVector(const Vector& src, const std::vector<uint32_t>& sel, Vector* out);

class TableScan final : public Operator {
 public:
  TableScan(std::string table, std::vector<BlockRef> blocks, std::vector<int> columns,
            std::vector<SqlType> types, size_t num_fields, std::string detail)
      : table_(std::move(table)), blocks_(std::move(blocks)), columns_(std::move(columns)),
        types_(std::move(types)), num_fields_(num_fields), detail_(std::move(detail)) {}
  std::string Describe() const override { return StrCat("TABLE SCAN ", table_, detail_); }
  // When the scan reads no column: its row count, from the blocks' metadata.
  std::optional<int64_t> RowsWithoutReading() const {
    if (!columns_.empty()) return std::nullopt;
    int64_t rows = 0;
    for (const BlockRef& b : blocks_) rows += b.segment->blocks()[b.block].row_count;
    return rows;
  }
  size_t block_count() const { return blocks_.size(); }
  // A scan of the same blocks and columns, for another thread; it reads
  // nothing until StartBlock.
  std::unique_ptr<TableScan> CloneForWorker() const {
    auto c = std::make_unique<TableScan>(table_, blocks_, columns_, types_, num_fields_, detail_);
    c->next_ = c->end_ = blocks_.size();
    return c;
  }
  // Reads block `b` alone, from its first row.
  void StartBlock(size_t b) {
    next_ = b;
    end_ = b + 1;
    current_ = nullptr;
  }

  // Late materialization for a filter above: if `filter_columns` (schema
  // indices) leave some of the scan's columns out, NextFiltered will read
  // those only for the rows that pass. Returns whether it will.
  bool PrepareFilter(const std::vector<int>& filter_columns) {
    in_filter_.assign(columns_.size(), false);
    bool others = false;
    for (size_t k = 0; k < columns_.size(); ++k) {
      in_filter_[k] = std::find(filter_columns.begin(), filter_columns.end(), columns_[k]) != filter_columns.end();
      others = others || !in_filter_[k];
    }
    return others;
  }
  // The next batch of rows that satisfy `pred` (which reads only the filter
  // columns of PrepareFilter): the filter's columns are read for every row,
  // the others for the rows that pass. This operator's figures count the
  // rows scanned.
  absl::StatusOr<bool> NextFiltered(Expr* pred, SourcePos pos, Batch* out) {
    const auto t0 = std::chrono::steady_clock::now();
    int64_t scanned = 0;
    auto count = [&] {
      CountRows(scanned, std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - t0).count());
    };
    while (true) {
      absl::StatusOr<bool> more = Advance();
      if (!more.ok() || !*more) {
        count();
        return more;
      }
      const size_t n = std::min<size_t>(kBatchRows, static_cast<size_t>(block_rows_ - pos_));
      const RowIndex begin = pos_;
      pos_ += static_cast<RowIndex>(n);
      scanned += static_cast<int64_t>(n);
      filter_batch_.columns.resize(num_fields_);
      filter_batch_.size = n;
      for (size_t k = 0; k < columns_.size(); ++k) {
        if (in_filter_[k]) ReadColumn(k, begin, n, &filter_batch_.columns[columns_[k]]);
      }
      const Vector* r = nullptr;
      absl::Status st = WithPos(pred->Eval(filter_batch_, &r), pos);
      if (!st.ok()) {
        count();
        return st;
      }
      // The rows where the filter is true, without a branch per row.
      sel_.resize(n);
      size_t m = 0;
      const uint8_t* rv = r->valid.data();
      const int64_t* ri = r->i64.data();
      if (r->constant) {
        if (rv[0] && ri[0]) for (size_t i = 0; i < n; ++i) sel_[m++] = static_cast<uint32_t>(i);
      } else {
        for (size_t i = 0; i < n; ++i) {
          sel_[m] = static_cast<uint32_t>(i);
          m += rv[i] & static_cast<uint8_t>(ri[i] != 0);
        }
      }
      sel_.resize(m);
      if (sel_.empty()) continue;
      out->columns.resize(num_fields_);
      out->size = sel_.size();
      for (size_t k = 0; k < columns_.size(); ++k) {
        Vector* v = &out->columns[columns_[k]];
        if (in_filter_[k]) {
          if (sel_.size() == n) std::swap(*v, filter_batch_.columns[columns_[k]]);
          else GatherVector(filter_batch_.columns[columns_[k]], sel_, v);
        } else if (sel_.size() == n) {
          ReadColumn(k, begin, n, v);
        } else {
          ReadColumnAt(k, begin, sel_, v);
        }
      }
      count();
      return true;
    }
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    RETL_ASSIGN_OR_RETURN(bool more, Advance());
    if (!more) return false;
    size_t n = std::min<size_t>(kBatchRows, static_cast<size_t>(block_rows_ - pos_));
    out->columns.resize(num_fields_);
    out->size = n;
    for (size_t k = 0; k < columns_.size(); ++k) ReadColumn(k, pos_, n, &out->columns[columns_[k]]);
    if (columns_.empty()) {
      for (Vector& v : out->columns) v.Reset(SqlType{}, 0);
    }
    pos_ += static_cast<RowIndex>(n);
    return true;
  }

 private:
  // Rows [begin, begin + n) of the scan's column k of the current block.
  void ReadColumn(size_t k, RowIndex begin, size_t n, Vector* v) {
    if (dictionaries_[k] != nullptr) {
      DictionaryToVector(*readers_[k], dictionaries_[k], begin, n, types_[columns_[k]], v);
      v->keep.push_back(current_->segment);
    } else if (readers_[k] != nullptr) {
      ReaderToVector(*readers_[k], begin, n, types_[columns_[k]], v);
      v->keep.push_back(current_->segment);
    } else {
      ColumnToVector(decoded_[k], begin, n, types_[columns_[k]], v);
    }
  }
  // Rows begin + sel[j] of the scan's column k of the current block.
  void ReadColumnAt(size_t k, RowIndex begin, const std::vector<uint32_t>& sel, Vector* v) {
    const SqlType t = types_[columns_[k]];
    if (readers_[k] == nullptr) {  // decoded whole: take the rows from it
      ColumnToVector(decoded_[k], begin, sel.back() + 1, t, &scratch_);
      GatherVector(scratch_, sel, v);
      return;
    }
    const ChunkReader& r = *readers_[k];
    const size_t m = sel.size();
    const uint32_t* s = sel.data();
    v->Resize(t, m);
    const bool dictionary = dictionaries_[k] != nullptr;
    r.GatherValidity(begin, s, m, v->valid.data());
    const uint8_t* valid = v->valid.data();
    const bool nulls = r.may_have_nulls();
    // NULL rows hold zero (empty strings, code 0), as ReaderToVector's do.
    switch (t.storage()) {
      case Storage::kString:
        if (dictionary) {
          v->codes.resize(m);
          uint32_t* codes = v->codes.data();
          r.GatherCodes(begin, s, m, codes);
          if (nulls) {
            for (size_t j = 0; j < m; ++j) codes[j] = valid[j] ? codes[j] : 0;
          }
          const std::vector<std::string_view>& dict = *dictionaries_[k];
          for (size_t j = 0; j < m; ++j) v->str[j] = valid[j] ? dict[codes[j]] : std::string_view();
        } else {
          for (size_t j = 0; j < m; ++j) v->str[j] = valid[j] ? r.GetBytes(begin + s[j]) : std::string_view();
        }
        break;
      case Storage::kDouble: {
        double* x = v->f64.data();
        r.GatherDoubles(begin, s, m, x);
        if (nulls) {
          for (size_t j = 0; j < m; ++j) x[j] = valid[j] ? x[j] : 0;
        }
        break;
      }
      case Storage::kInt128:
        for (size_t j = 0; j < m; ++j) v->i128[j] = valid[j] ? r.GetInt128(begin + s[j]) : 0;
        break;
      default: {
        int64_t* x = v->i64.data();
        r.GatherInts(begin, s, m, x);
        if (nulls) {
          for (size_t j = 0; j < m; ++j) x[j] = valid[j] ? x[j] : 0;
        }
        break;
      }
    }
    if (dictionary) v->dictionary = dictionaries_[k];
    v->keep.push_back(current_->segment);
  }

  // Moves to the next block when the current one is read; false at the end.
  absl::StatusOr<bool> Advance() {
    while (true) {
      if (current_ != nullptr && pos_ < block_rows_) return true;
      if (next_ >= std::min(end_, blocks_.size())) return false;
      const BlockRef& b = blocks_[next_++];
      current_ = &b;
      block_rows_ = b.segment->blocks()[b.block].row_count;
      pos_ = 0;
      decoded_.clear();
      readers_.clear();
      dictionaries_.clear();
      for (int c : columns_) {
        // Uncompressed chunks are read in place, a batch at a time, and
        // strings are views of the mapped file (of the dictionary, for
        // dictionary chunks): no copy. The segment keeps the chunk's reader,
        // checked once, for later queries. Compressed chunks are decoded
        // whole, so that no decompressed copy outlives the scan.
        const ChunkInfo& chunk = b.segment->blocks()[b.block].columns[c];
        if (chunk.compression == Compression::kNone) {
          RETL_ASSIGN_OR_RETURN(const ChunkReader* reader, b.segment->Reader(b.block, c));
          readers_.push_back(reader);
          decoded_.push_back(nullptr);
          std::shared_ptr<std::vector<std::string_view>> dictionary;
          if (reader->dictionary_encoded()) {
            dictionary = std::make_shared<std::vector<std::string_view>>(reader->dictionary_size());
            for (int32_t j = 0; j < reader->dictionary_size(); ++j) (*dictionary)[j] = reader->DictionaryEntry(j);
          }
          dictionaries_.push_back(std::move(dictionary));
          continue;
        }
        auto col = std::make_shared<Column>(b.segment->schema().fields[c].type);
        RETL_RETURN_IF_ERROR(b.segment->ReadChunk(b.block, c, col.get()));
        decoded_.push_back(std::move(col));
        readers_.push_back(nullptr);
        dictionaries_.push_back(nullptr);
      }
    }
  }

  std::string table_;
  std::vector<BlockRef> blocks_;
  std::vector<int> columns_;
  std::vector<SqlType> types_;  // by schema field
  size_t num_fields_;
  std::string detail_;
  size_t next_ = 0;
  size_t end_ = SIZE_MAX;  // StartBlock: one past the block to read
  const BlockRef* current_ = nullptr;
  RowIndex block_rows_ = 0;
  RowIndex pos_ = 0;
  std::vector<std::shared_ptr<const Column>> decoded_;  // per column: decoded, or
  std::vector<const ChunkReader*> readers_;             // read in place
  // Per column, for dictionary-encoded strings: the block's dictionary.
  std::vector<std::shared_ptr<const std::vector<std::string_view>>> dictionaries_;
  // NextFiltered: whether each column is the filter's, the filter's input,
  // the rows that pass, and a vector for decoded chunks.
  std::vector<bool> in_filter_;
  Batch filter_batch_;
  std::vector<uint32_t> sel_;
  Vector scratch_;
};

// Runs work(w, b) for blocks b = 0, 1, ... on `threads` threads (w: the
// thread's index, 0 .. threads - 1), each taking the next block, at most
// `window` blocks ahead of the consumer, and returns the results to the
// consumer in block order, whichever thread finished first.
template <typename Result>
class OrderedBlocks {
 public:
  OrderedBlocks(size_t threads, size_t blocks, size_t window, std::function<Result(size_t, size_t)> work)
      : blocks_(blocks), window_(window), work_(std::move(work)) {
    for (size_t w = 0; w < threads; ++w) threads_.emplace_back([this, w] { Run(w); });
  }
  ~OrderedBlocks() { Stop(); }
  // The next block's result, waiting for it; nullopt after the last block.
  std::optional<Result> Next() {
    if (next_ >= blocks_) return std::nullopt;
    std::optional<Result> r;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return done_.count(next_) > 0; });
      auto it = done_.find(next_);
      r = std::move(it->second);
      done_.erase(it);
      ++next_;
    }
    space_cv_.notify_all();
    return r;
  }
  size_t taken() const { return next_; }
  // Hands out no more blocks and joins the threads (those running a block
  // finish it first).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    space_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Run(size_t w) {
    while (true) {
      size_t b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        space_cv_.wait(lock, [&] { return stop_ || claim_ >= blocks_ || claim_ < next_ + window_; });
        if (stop_ || claim_ >= blocks_) return;
        b = claim_++;
      }
      Result r = work_(w, b);
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.emplace(b, std::move(r));
      }
      done_cv_.notify_all();
    }
  }

  const size_t blocks_;
  const size_t window_;
  std::function<Result(size_t, size_t)> work_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable done_cv_;   // a block finished
  std::condition_variable space_cv_;  // the consumer took a block, or stop
  bool stop_ = false;                 // under mu_
  size_t claim_ = 0;                  // the next block to hand out, under mu_
  std::atomic<size_t> next_{0};       // the next block the consumer takes
  std::map<size_t, Result> done_;     // finished blocks, under mu_
};

// Blocks a worker may run ahead of the consumer, per thread.
constexpr size_t kBlocksAheadPerThread = 2;

// Runs copies of a table scan (each under its own copy of the WHERE filter)
// on worker threads, a block at a time, and returns their batches in block
// order: the rows, and their order, are those of one scan, whatever the
// number of threads, so everything above runs as it would on one thread.
class ParallelScan final : public Operator {
 public:
  struct Worker {
    OpPtr root;
    TableScan* scan;  // the leaf of root
  };
  ParallelScan(std::vector<Worker> workers, size_t blocks) : workers_(std::move(workers)), blocks_(blocks) {
    children.push_back(workers_[0].root.get());
  }
  ~ParallelScan() override { Stop(); }
  // The workers, for an operator that runs them itself (parallel aggregation).
  std::vector<Worker> TakeWorkers() { return std::move(workers_); }
  size_t blocks() const { return blocks_; }
  std::string Describe() const override {
    return StrCat("PARALLEL SCAN ", workers_.size(), workers_.size() == 1 ? " thread, " : " threads, ", blocks_,
                  " blocks in order");
  }
  std::string RuntimeDetail() const override {
    return StrCat("below: the ", workers_.size(), " threads' figures summed");
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (runner_ == nullptr && !stopped_) {
      runner_ = std::make_unique<OrderedBlocks<Slot>>(
          workers_.size(), blocks_, kBlocksAheadPerThread * workers_.size(),
          [this](size_t w, size_t b) { return ScanBlock(w, b); });
    }
    while (true) {
      if (pos_ < current_.size()) {
        *out = std::move(current_[pos_++]);
        return true;
      }
      std::optional<Slot> slot = runner_ != nullptr ? runner_->Next() : std::nullopt;
      if (!slot.has_value()) {
        Stop();  // every worker is done: join them, and sum their figures
        return false;
      }
      if (!slot->status.ok()) {
        Stop();
        return slot->status;
      }
      current_ = std::move(slot->batches);
      pos_ = 0;
    }
  }

 private:
  struct Slot {
    absl::Status status;
    std::vector<Batch> batches;
  };

  Slot ScanBlock(size_t w, size_t b) {
    Slot slot;
    workers_[w].scan->StartBlock(b);
    while (true) {
      Batch batch;
      absl::StatusOr<bool> more = workers_[w].root->Pull(&batch);
      if (!more.ok()) {
        slot.status = more.status();
        break;
      }
      if (!*more) break;
      slot.batches.push_back(std::move(batch));
    }
    return slot;
  }

  void Stop() {
    if (runner_ != nullptr) {
      runner_->Stop();
      runner_.reset();
      for (size_t w = 1; w < workers_.size(); ++w) workers_[0].root->AddFigures(*workers_[w].root);
    }
    stopped_ = true;
  }

  std::vector<Worker> workers_;
  const size_t blocks_;
  std::unique_ptr<OrderedBlocks<Slot>> runner_;
  bool stopped_ = false;
  std::vector<Batch> current_;  // the block being returned
  size_t pos_ = 0;
};

// A key column value for the Lookup API (its type is the column's).
KeyValue KeyValueOf(const Value& v) {
  if (v.null) return KeyValue::Null();
  switch (v.type.storage()) {
    case Storage::kString: return KeyValue::Bytes(v.s);  // a view: `v` must outlive the lookup
    case Storage::kDouble: return KeyValue::Double(v.d);
    case Storage::kInt128: return KeyValue::Int128(v.i128);
    default: return v.type.kind == SqlKind::kBoolean ? KeyValue::Bool(v.i != 0) : KeyValue::Int(v.i);
  }
}

// Column `col` of `rows` (found by a Lookup) as a vector of type `t`; strings
// point into the snapshot's files, which `snapshot` keeps mapped.
void RowViewsToVector(const std::vector<RowView>& rows, int col, PhysicalType physical, SqlType t,
                      const std::shared_ptr<const Snapshot>& snapshot, Vector* v) {
  v->Reset(t, rows.size());
  v->keep.push_back(snapshot);
  for (size_t i = 0; i < rows.size(); ++i) {
    const RowView& r = rows[i];
    if (r.IsNull(col)) {
      v->valid[i] = 0;
      continue;
    }
    switch (physical) {
      case PhysicalType::kBool: v->i64[i] = r.GetBool(col); break;
      case PhysicalType::kInt128: v->i128[i] = r.GetInt128(col); break;
      case PhysicalType::kFloat:
      case PhysicalType::kDouble: v->f64[i] = r.GetDouble(col); break;
      case PhysicalType::kBytes: v->str[i] = r.GetBytes(col); break;
      default: v->i64[i] = r.GetInt(col); break;
    }
  }
}

// Rows found through an index: every key's rows, then the filter above
// re-checks the whole WHERE clause.
class IndexProbe final : public Operator {
 public:
  IndexProbe(std::shared_ptr<const Snapshot> snapshot, std::string table, std::string index,
             std::vector<std::vector<Value>> keys, std::vector<SqlType> types, std::string detail,
             LookupCache* cache)
      : snapshot_(std::move(snapshot)), table_(std::move(table)), index_(std::move(index)),
        keys_(std::move(keys)), types_(std::move(types)), detail_(std::move(detail)), cache_(cache) {}
  std::string Describe() const override {
    return StrCat("INDEX PROBE ", table_, " using ", index_.empty() ? "primary key" : "index " + index_, detail_);
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (lookup_ == nullptr) {
      RETL_ASSIGN_OR_RETURN(lookup_, cache_->Get(snapshot_, table_, index_));
    }
    std::vector<RowView> rows;
    while (next_ < keys_.size() && rows.size() < kBatchRows) {
      std::vector<KeyValue> kv;
      for (const Value& v : keys_[next_]) kv.push_back(KeyValueOf(v));
      ++next_;
      RETL_RETURN_IF_ERROR(lookup_->Find(kv, &rows));
    }
    if (rows.empty()) return false;
    const std::vector<Field>& fields = lookup_->fields();
    out->size = rows.size();
    out->columns.resize(fields.size());
    for (size_t c = 0; c < fields.size(); ++c) {
      RowViewsToVector(rows, static_cast<int>(c), fields[c].type.physical(), types_[c], snapshot_, &out->columns[c]);
    }
    return true;
  }

 private:
  std::shared_ptr<const Snapshot> snapshot_;
  std::string table_;
  std::string index_;
  std::vector<std::vector<Value>> keys_;
  std::vector<SqlType> types_;
  std::string detail_;
  LookupCache* cache_;
  std::shared_ptr<const Lookup> lookup_;
  size_t next_ = 0;
};

template <typename T>
void GatherValues(const std::vector<T>& src, const std::vector<uint32_t>& sel, std::vector<T>* dst) {
  dst->resize(sel.size());
  for (size_t k = 0; k < sel.size(); ++k) (*dst)[k] = src[sel[k]];
}

// The rows `sel` of `in`, in that order.
// Rows `sel` of src into dst.
void GatherVector(const Vector& src, const std::vector<uint32_t>& sel, Vector* out) {
  Vector& dst = *out;
  dst.type = src.type;
  dst.size = sel.size();
  dst.keep = src.keep;
  dst.valid.resize(sel.size());
  for (size_t k = 0; k < sel.size(); ++k) dst.valid[k] = src.valid[sel[k]];
  dst.i64.clear();
  dst.i128.clear();
  dst.f64.clear();
  dst.str.clear();
  dst.iv.clear();
  switch (src.type.storage()) {
    case Storage::kInt64: GatherValues(src.i64, sel, &dst.i64); break;
    case Storage::kInt128: GatherValues(src.i128, sel, &dst.i128); break;
    case Storage::kDouble: GatherValues(src.f64, sel, &dst.f64); break;
    case Storage::kString: GatherValues(src.str, sel, &dst.str); break;
    case Storage::kInterval: GatherValues(src.iv, sel, &dst.iv); break;
  }
  dst.constant = src.constant;
  dst.dictionary = src.dictionary;
  if (src.dictionary != nullptr) GatherValues(src.codes, sel, &dst.codes);
}

void GatherBatch(const Batch& in, const std::vector<uint32_t>& sel, Batch* out) {
  out->size = sel.size();
  out->columns.resize(in.columns.size());
  for (size_t c = 0; c < in.columns.size(); ++c) {
    const Vector& src = in.columns[c];
    if (src.size == 0 && in.size != 0) {
      out->columns[c].Reset(SqlType{}, 0);
      continue;
    }
    GatherVector(src, sel, &out->columns[c]);
  }
}

class Filter final : public Operator {
 public:
  Filter(OpPtr child, ExprPtr predicate, SourcePos pos) : child_(std::move(child)), pred_(std::move(predicate)), pos_(pos) {
    children.push_back(child_.get());
    // Over a scan, read the columns the predicate does not need only for the
    // rows that pass.
    if (auto* scan = dynamic_cast<TableScan*>(child_.get())) {
      std::vector<int> cols;
      CollectColumns(pred_.get(), &cols);
      if (scan->PrepareFilter(cols)) scan_ = scan;
    }
  }
  std::string Describe() const override { return StrCat("FILTER ", pred_->ToString()); }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (scan_ != nullptr) return scan_->NextFiltered(pred_.get(), pos_, out);
    while (true) {
      RETL_ASSIGN_OR_RETURN(bool more, child_->Pull(&in_));
      if (!more) return false;
      const Vector* r = nullptr;
      RETL_RETURN_IF_ERROR(WithPos(pred_->Eval(in_, &r), pos_));
      sel_.clear();
      for (size_t i = 0; i < in_.size; ++i) {
        if (r->valid[i] && r->i64[i]) sel_.push_back(static_cast<uint32_t>(i));
      }
      if (sel_.empty()) continue;
      if (sel_.size() == in_.size) {
        std::swap(*out, in_);
        return true;
      }
      GatherBatch(in_, sel_, out);
      return true;
    }
  }

 private:
  OpPtr child_;
  ExprPtr pred_;
  SourcePos pos_;
  TableScan* scan_ = nullptr;  // late materialization through the scan below
  Batch in_;
  std::vector<uint32_t> sel_;
};

class Project final : public Operator {
 public:
  Project(OpPtr child, std::vector<ExprPtr> exprs, std::vector<SourcePos> positions)
      : child_(std::move(child)), exprs_(std::move(exprs)), pos_(std::move(positions)) {
    children.push_back(child_.get());
  }
  std::string Describe() const override {
    std::string s = "PROJECT ";
    for (size_t i = 0; i < exprs_.size(); ++i) {
      if (i) s += ", ";
      s += exprs_[i]->ToString();
    }
    return s;
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    RETL_ASSIGN_OR_RETURN(bool more, child_->Pull(&in_));
    if (!more) return false;
    out->size = in_.size;
    out->columns.resize(exprs_.size());
    for (size_t i = 0; i < exprs_.size(); ++i) {
      const Vector* r = nullptr;
      RETL_RETURN_IF_ERROR(WithPos(exprs_[i]->Eval(in_, &r), pos_[i]));
      out->columns[i] = *r;
    }
    return true;
  }

 private:
  OpPtr child_;
  std::vector<ExprPtr> exprs_;
  std::vector<SourcePos> pos_;
  Batch in_;
};

// ---------------------------------------------------------------------------
// Aggregation

// The least an operator writes to a spill file at a time: when the query is
// over its limit because of what other operators hold, an operator goes on
// to this much before spilling rather than writing tiny files.
constexpr int64_t kMinSpillBytes = 256 << 10;

enum class AggKind { kCountStar, kCount, kSum, kAvg, kMin, kMax, kStddev, kApproxDistinct };

struct AggSpec {
  AggKind kind;
  bool distinct = false;
  ExprPtr arg;  // nullptr for count(*)
  SqlType type;  // result
  std::string text;
  SourcePos pos;
};

// Appends a byte encoding of a value that is equal exactly for equal SQL
// values (used for group keys and DISTINCT).
void EncodeKeyParts(Storage storage, bool valid, int64_t i, int128 i128, double d, std::string_view str,
                    const Interval& iv, std::string* out) {
  if (!valid) {
    out->push_back(0);
    return;
  }
  out->push_back(1);
  switch (storage) {
    case Storage::kInt64: out->append(reinterpret_cast<const char*>(&i), 8); break;
    case Storage::kInt128: out->append(reinterpret_cast<const char*>(&i128), 16); break;
    case Storage::kDouble: {
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      if (d == 0) d = 0;  // -0 groups with 0
      out->append(reinterpret_cast<const char*>(&d), 8);
      break;
    }
    case Storage::kString: {
      uint32_t n = static_cast<uint32_t>(str.size());
      out->append(reinterpret_cast<const char*>(&n), 4);
      out->append(str);
      break;
    }
    case Storage::kInterval: {
      int128 k = (int128{iv.months} * 30 + iv.days) * 86400000000LL + iv.micros;
      out->append(reinterpret_cast<const char*>(&k), 16);
      break;
    }
  }
}

// Row i of v's encoding.
void EncodeKey(const Vector& v, size_t i, std::string* out) {
  const Storage st = v.type.storage();
  const bool valid = v.valid[i] != 0;
  EncodeKeyParts(st, valid, st == Storage::kInt64 && valid ? v.i64[i] : 0,
                 st == Storage::kInt128 && valid ? v.i128[i] : 0, st == Storage::kDouble && valid ? v.f64[i] : 0,
                 st == Storage::kString && valid ? v.str[i] : std::string_view(),
                 st == Storage::kInterval && valid ? v.iv[i] : Interval{}, out);
}

// A Value's encoding (the same as EncodeKey's for the same SQL value).
void EncodeValueKey(const Value& v, std::string* out) {
  EncodeKeyParts(v.type.storage(), !v.null, v.i, v.i128, v.d, v.s, v.iv, out);
}

// Dense ids for the values of one column (1, 2, ... in order of first
// appearance; 0 for NULL), equal exactly when EncodeKey's encodings are: the
// fast path of group keys and count(DISTINCT) over integer-like, floating
// and string columns.
class ValueIds {
 public:
  static bool Supports(SqlType t) {
    const Storage s = t.storage();
    return s == Storage::kInt64 || s == Storage::kDouble || s == Storage::kString;
  }
  // ids[i] for rows [0, n) of v; returns how many ids were new.
  size_t Map(const Vector& v, size_t n, uint32_t* ids) {
    const uint32_t before = next_;
    switch (v.type.storage()) {
      case Storage::kInt64:
        if (small_.empty()) small_.assign(kSmall, 0);
        for (size_t i = 0; i < n; ++i) {
          const int64_t x = v.i64[i];
          // Small integers seen before: one load, no call.
          const uint32_t known = static_cast<uint64_t>(x) < kSmall ? small_[static_cast<size_t>(x)] : 0;
          ids[i] = !v.valid[i] ? 0 : known != 0 ? known : IntId(x);
        }
        break;
      case Storage::kDouble:
        for (size_t i = 0; i < n; ++i) {
          if (!v.valid[i]) {
            ids[i] = 0;
            continue;
          }
          double d = v.f64[i];
          if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
          if (d == 0) d = 0;  // -0 is 0
          int64_t bits;
          std::memcpy(&bits, &d, 8);
          ids[i] = IntId(bits);
        }
        break;
      case Storage::kString: {
        if (v.dictionary != nullptr) {
          // Each entry of the dictionary once, then the codes.
          if (v.dictionary != dictionary_) {
            dictionary_ = v.dictionary;
            dictionary_ids_.resize(dictionary_->size());
            for (size_t j = 0; j < dictionary_->size(); ++j) dictionary_ids_[j] = StringId((*dictionary_)[j]);
          }
          const uint32_t* codes = v.codes.data();
          for (size_t i = 0; i < n; ++i) ids[i] = v.valid[i] ? dictionary_ids_[codes[i]] : 0;
          break;
        }
        // Strings read from a dictionary chunk repeat the same view: compare
        // the pointer first. Only within this batch, whose vector keeps the
        // bytes alive (a later batch may reuse the address).
        const char* last_data = nullptr;
        size_t last_size = 0;
        uint32_t last_id = 0;
        for (size_t i = 0; i < n; ++i) {
          if (!v.valid[i]) {
            ids[i] = 0;
            continue;
          }
          const std::string_view x = v.str[i];
          if (x.data() == last_data && x.size() == last_size && last_data != nullptr) {
            ids[i] = last_id;
            continue;
          }
          ids[i] = last_id = StringId(x);
          last_data = x.data();
          last_size = x.size();
        }
        break;
      }
      default:
        break;
    }
    return next_ - before;
  }

  // Merging another ValueIds (of the same column type): the id here of
  // `other`'s value `id`.
  uint32_t IdOf(const ValueIds& other, uint32_t id) {
    const size_t k = id - 1;
    return k < other.string_values_.size() ? StringId(other.string_values_[k]) : IntId(other.int_values_[k]);
  }
  // Spilling: id's value as bytes (a string's, or an integer's or a
  // double's bits), and the id of such bytes.
  void AppendRaw(uint32_t id, std::string* out) const {
    const size_t k = id - 1;
    if (k < string_values_.size()) {
      const uint32_t n = static_cast<uint32_t>(string_values_[k].size());
      out->push_back(1);
      out->append(reinterpret_cast<const char*>(&n), 4);
      out->append(string_values_[k]);
    } else {
      out->push_back(0);
      out->append(reinterpret_cast<const char*>(&int_values_[k]), 8);
    }
  }
  // Reads one AppendRaw entry at *p, advancing it.
  uint32_t IdOfRaw(const char** p) {
    const bool is_string = **p != 0;
    ++*p;
    if (is_string) {
      uint32_t n;
      std::memcpy(&n, *p, 4);
      const std::string_view x(*p + 4, n);
      *p += 4 + n;
      return StringId(x);
    }
    int64_t x;
    std::memcpy(&x, *p, 8);
    *p += 8;
    return IntId(x);
  }
  // Roughly the bytes held.
  int64_t Bytes() const {
    return static_cast<int64_t>(ints_.capacity() * 13 + strings_.capacity() * 21 + heap_bytes_ +
                                string_values_.capacity() * 16 + int_values_.capacity() * 8 + small_.capacity() * 4);
  }

 private:
  uint32_t StringId(std::string_view x) {
    auto it = strings_.find(x);
    if (it == strings_.end()) {
      const std::string_view kept = heap_.Add(x);
      heap_bytes_ += x.size();
      it = strings_.emplace(kept, next_++).first;
      string_values_.push_back(kept);
    }
    return it->second;
  }
  uint32_t IntId(int64_t x) {
    // Small non-negative integers (codes, segments, flags): an array.
    if (static_cast<uint64_t>(x) < kSmall) {
      if (small_.empty()) small_.assign(kSmall, 0);
      uint32_t& id = small_[static_cast<size_t>(x)];
      if (id == 0) {
        id = next_++;
        int_values_.push_back(x);
      }
      return id;
    }
    auto [it, inserted] = ints_.try_emplace(x, next_);
    if (inserted) {
      ++next_;
      int_values_.push_back(x);
    }
    return it->second;
  }

  uint32_t next_ = 1;
  int64_t heap_bytes_ = 0;
  absl::flat_hash_map<int64_t, uint32_t> ints_;  // integers, and doubles by their bits
  absl::flat_hash_map<std::string_view, uint32_t> strings_;  // views of heap_
  StringHeap heap_;
  std::shared_ptr<const std::vector<std::string_view>> dictionary_;  // the last one seen
  std::vector<uint32_t> dictionary_ids_;                             // its entries' ids
  // The value of id k + 1 (a column's values are all strings or all not).
  std::vector<std::string_view> string_values_;  // views of heap_
  std::vector<int64_t> int_values_;
  static constexpr uint64_t kSmall = 1024;
  std::vector<uint32_t> small_;  // ids of 0 .. kSmall - 1, 0 if unseen
};

// count(DISTINCT x)'s state: x's values as ids, and the (group, value id)
// pairs seen.
struct FastDistinct {
  ValueIds values;
  std::vector<uint32_t> ids;  // scratch: the ids of a batch
  absl::flat_hash_set<uint64_t> seen;  // (group << 32) | value id
};

struct AggState {
  // Per group.
  std::vector<int64_t> count;
  std::vector<int128> isum;  // integers: exact, checked against BIGINT at the end
  std::vector<int128> dsum;  // DECIMAL unscaled
  std::vector<double> fsum;
  std::vector<double> mean, m2;
  std::vector<Value> extreme;  // min/max
  std::vector<uint8_t> has;
  std::vector<absl::flat_hash_set<std::string>> distinct;
  std::vector<std::vector<Value>> distinct_values;
  std::vector<absl::flat_hash_set<uint64_t>> hashes;
  std::vector<std::vector<uint8_t>> hll;
};

// Sums of DECIMAL stay below 10^38 in magnitude.
const int128 kDecimalLimit = Pow10(38);

constexpr int kHllBits = 12;
constexpr size_t kHllExactLimit = 4096;

int CompareValues(const Value& a, const Value& b) {
  switch (a.type.storage()) {
    case Storage::kInt64: return (a.i > b.i) - (a.i < b.i);
    case Storage::kInt128: return (a.i128 > b.i128) - (a.i128 < b.i128);
    case Storage::kDouble: {
      if (a.d < b.d) return -1;
      if (a.d > b.d) return 1;
      bool na = std::isnan(a.d), nb = std::isnan(b.d);
      return na == nb ? 0 : (na ? 1 : -1);
    }
    case Storage::kString: return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
    case Storage::kInterval: {
      auto k = [](const Interval& v) { return (int128{v.months} * 30 + v.days) * 86400000000LL + v.micros; };
      return (k(a.iv) > k(b.iv)) - (k(a.iv) < k(b.iv));
    }
  }
  return 0;
}

// A value of a known type as bytes (spill files' DISTINCT value lists).
void AppendValueRaw(const Value& v, std::string* out) {
  switch (v.type.storage()) {
    case Storage::kInt64: out->append(reinterpret_cast<const char*>(&v.i), 8); break;
    case Storage::kInt128: out->append(reinterpret_cast<const char*>(&v.i128), 16); break;
    case Storage::kDouble: out->append(reinterpret_cast<const char*>(&v.d), 8); break;
    case Storage::kInterval: out->append(reinterpret_cast<const char*>(&v.iv), sizeof(Interval)); break;
    case Storage::kString: {
      const uint32_t n = static_cast<uint32_t>(v.s.size());
      out->append(reinterpret_cast<const char*>(&n), 4);
      out->append(v.s);
      break;
    }
  }
}

// Reads one AppendValueRaw value of type t at *p, advancing it.
Value ReadValueRaw(SqlType t, const char** p) {
  Value v;
  v.type = t;
  v.null = false;
  switch (t.storage()) {
    case Storage::kInt64: std::memcpy(&v.i, *p, 8); *p += 8; break;
    case Storage::kInt128: std::memcpy(&v.i128, *p, 16); *p += 16; break;
    case Storage::kDouble: std::memcpy(&v.d, *p, 8); *p += 8; break;
    case Storage::kInterval: std::memcpy(&v.iv, *p, sizeof(Interval)); *p += sizeof(Interval); break;
    case Storage::kString: {
      uint32_t n;
      std::memcpy(&n, *p, 4);
      v.s.assign(*p + 4, n);
      *p += 4 + n;
      break;
    }
  }
  return v;
}

class HashAggregate final : public Operator {
 public:
  HashAggregate(OpPtr child, std::vector<ExprPtr> keys, std::vector<AggSpec> aggs,
                std::vector<SourcePos> key_pos = {})
      : child_(std::move(child)), keys_(std::move(keys)), aggs_(std::move(aggs)), key_pos_(std::move(key_pos)) {
    children.push_back(child_.get());
    states_.resize(aggs_.size());
    fast_distinct_.resize(aggs_.size());
    fast_keys_ = !keys_.empty() && keys_.size() <= 2;
    for (const ExprPtr& k : keys_) fast_keys_ = fast_keys_ && ValueIds::Supports(k->type());
    if (fast_keys_) {
      key_ids_.resize(keys_.size());
      key_ids_scratch_.resize(keys_.size());
    }
    // What a group costs besides its strings and DISTINCT values: its key
    // values, ordinal, map entry and states.
    per_group_bytes_ = static_cast<int64_t>(sizeof(std::vector<Value>) + keys_.size() * sizeof(Value) + 8);
    for (const AggSpec& a : aggs_) {
      per_group_bytes_ += 9;
      if (a.distinct) per_group_bytes_ += sizeof(absl::flat_hash_set<std::string>) + sizeof(std::vector<Value>);
      switch (a.kind) {
        case AggKind::kSum:
        case AggKind::kAvg: per_group_bytes_ += 40; break;
        case AggKind::kStddev: per_group_bytes_ += 16; break;
        case AggKind::kMin:
        case AggKind::kMax: per_group_bytes_ += sizeof(Value); break;
        case AggKind::kApproxDistinct:
          per_group_bytes_ += sizeof(absl::flat_hash_set<uint64_t>) + sizeof(std::vector<uint8_t>);
          break;
        default: break;
      }
    }
  }
  // Limits the groups' memory to the query's limit, spilling beyond it.
  void SetMemory(QueryMemory* memory) {
    memory_ = memory;
    reservation_ = std::make_unique<MemoryReservation>(memory);
  }
  std::string Describe() const override {
    std::string s = partial_ ? "PARTIAL HASH AGGREGATE (per block)" : "HASH AGGREGATE";
    if (!keys_.empty()) {
      s += " BY ";
      for (size_t i = 0; i < keys_.size(); ++i) s += (i ? ", " : "") + keys_[i]->ToString();
    }
    if (!aggs_.empty()) {
      s += ": ";
      for (size_t i = 0; i < aggs_.size(); ++i) s += (i ? ", " : "") + aggs_[i].text;
    }
    return s;
  }
  std::string RuntimeDetail() const override {
    if (from_metadata_) return "rows counted from block metadata";
    if (partial_) return "rows: the blocks' groups";
    std::string s = StrCat(total_groups_, " groups");
    if (!workers_.empty()) {
      absl::StrAppend(&s, ", merged from ", merged_blocks_, " blocks' partial groups on ", workers_.size(),
                      workers_.size() == 1 ? " thread" : " threads");
    }
    if (reservation_ != nullptr) {
      absl::StrAppend(&s, "; memory peak ", FormatBytes(reservation_->peak()), " of limit ",
                      FormatBytes(memory_->limit()));
      if (spilled_bytes_ > 0) {
        absl::StrAppend(&s, "; spilled ", FormatBytes(spilled_bytes_), " (", spilled_groups_,
                        " partial groups) to temporary files, merged in ", merged_partitions_, " partitions",
                        spill_depth_ > 1 ? StrCat(" over ", spill_depth_, " levels") : "");
      }
    }
    if (!workers_.empty()) s += "; below: the threads' figures summed";
    return s;
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (!consumed_) {
      RETL_RETURN_IF_ERROR(Consume());
      consumed_ = true;
      total_groups_ = spilled() ? total_groups_ : groups_;
    }
    if (spilled()) return merge_.Next(out, kBatchRows);
    if (emitted_ >= groups_) return false;
    const size_t n = std::min(kBatchRows, groups_ - emitted_);
    RETL_RETURN_IF_ERROR(EmitGroups(emitted_, n, out));
    emitted_ += n;
    return true;
  }

 private:
  // Groups [from, from + n) as a batch: keys, then the aggregates' values.
  absl::Status EmitGroups(size_t from, size_t n, Batch* out, const std::vector<uint32_t>* order = nullptr) {
    auto group = [&](size_t g) -> size_t { return order != nullptr ? (*order)[from + g] : from + g; };
    out->size = n;
    out->columns.resize(keys_.size() + aggs_.size());
    for (size_t k = 0; k < keys_.size(); ++k) {
      Vector& v = out->columns[k];
      v.Reset(keys_[k]->type(), n);
      StringHeap* heap = v.type.storage() == Storage::kString ? v.NewHeap() : nullptr;
      for (size_t g = 0; g < n; ++g) group_keys_[group(g)][k].ToVector(&v, g, heap);
    }
    for (size_t a = 0; a < aggs_.size(); ++a) {
      Vector& v = out->columns[keys_.size() + a];
      v.Reset(aggs_[a].type, n);
      StringHeap* heap = v.type.storage() == Storage::kString ? v.NewHeap() : nullptr;
      for (size_t g = 0; g < n; ++g) {
        RETL_ASSIGN_OR_RETURN(Value r, Final(a, group(g)));
        r.ToVector(&v, g, heap);
      }
    }
    return absl::OkStatus();
  }

  void Grow(size_t groups) {
    for (size_t a = 0; a < aggs_.size(); ++a) GrowState(aggs_[a], groups, &states_[a]);
  }
  static void GrowState(const AggSpec& spec, size_t groups, AggState* state) {
    {
      AggState& s = *state;
      s.count.resize(groups, 0);
      s.has.resize(groups, 0);
      switch (spec.kind) {
        case AggKind::kSum:
        case AggKind::kAvg:
          s.isum.resize(groups, 0);
          s.dsum.resize(groups, 0);
          s.fsum.resize(groups, 0);
          break;
        case AggKind::kStddev:
          s.mean.resize(groups, 0);
          s.m2.resize(groups, 0);
          break;
        case AggKind::kMin:
        case AggKind::kMax:
          s.extreme.resize(groups);
          break;
        case AggKind::kApproxDistinct:
          s.hashes.resize(groups);
          s.hll.resize(groups);
          break;
        default:
          break;
      }
      if (spec.distinct) {
        s.distinct.resize(groups);
        s.distinct_values.resize(groups);
      }
    }
  }

  absl::Status Consume() {
    if (!workers_.empty()) return ConsumeParallel();
    // count(*) alone over a scan that reads no column: the blocks' row counts.
    if (keys_.empty() && !aggs_.empty() &&
        std::all_of(aggs_.begin(), aggs_.end(), [](const AggSpec& a) { return a.kind == AggKind::kCountStar; })) {
      if (auto* scan = dynamic_cast<TableScan*>(child_.get())) {
        if (std::optional<int64_t> rows = scan->RowsWithoutReading()) {
          AddTheOnlyGroup();
          for (AggState& s : states_) s.count[0] = *rows;
          from_metadata_ = true;
          return absl::OkStatus();
        }
      }
    }
    Batch in;
    std::vector<uint32_t> gid;
    std::string key;
    std::vector<const Vector*> kv(keys_.size());
    if (keys_.empty()) AddTheOnlyGroup();
    int64_t rows_seen = 0;
    while (true) {
      RETL_ASSIGN_OR_RETURN(bool more, child_->Pull(&in));
      if (!more) break;
      gid.assign(in.size, 0);
      if (!keys_.empty()) {
        for (size_t k = 0; k < keys_.size(); ++k) {
          RETL_RETURN_IF_ERROR(WithPos(keys_[k]->Eval(in, &kv[k]), key_pos_.size() > k ? key_pos_[k] : SourcePos{}));
        }
        ordinal_base_ = rows_seen;  // a group's ordinal: the row where it first appears
        if (WouldOverflow(in.size)) RETL_RETURN_IF_ERROR(FlushTable());
        AssignGroupIds(kv, in.size, &gid);
      }
      rows_seen += static_cast<int64_t>(in.size);
      for (size_t a = 0; a < aggs_.size(); ++a) RETL_RETURN_IF_ERROR(Update(a, in, gid));
      // Over the limit: the groups so far go to disk and the table starts
      // again (merged with them at the end).
      if (OverLimit()) RETL_RETURN_IF_ERROR(FlushTable());
    }
    if (spilled()) RETL_RETURN_IF_ERROR(FinishSpill());
    return absl::OkStatus();
  }

  // Without GROUP BY: one group, with an empty key.
  void AddTheOnlyGroup() {
    groups_ = 1;
    group_keys_.emplace_back();
    ordinal_.push_back(0);
    Grow(1);
  }

  // Adds a group whose key is row i of kv, with room for its states.
  void NewGroup(const std::vector<const Vector*>& kv, size_t i) {
    std::vector<Value> gk;
    for (const Vector* v : kv) {
      gk.push_back(Value::FromVector(*v, i));
      var_bytes_ += static_cast<int64_t>(gk.back().s.size());
    }
    group_keys_.push_back(std::move(gk));
    ordinal_.push_back(merge_ordinals_ != nullptr ? merge_ordinals_[i] : ordinal_base_ + static_cast<int64_t>(i));
    ++groups_;
    if (groups_ > capacity_) {
      capacity_ = std::max<size_t>(groups_ * 2, 64);
      Grow(capacity_);
    }
  }

  // The group of each of n rows with key values kv, new groups in order of
  // first appearance.
  void AssignGroupIds(const std::vector<const Vector*>& kv, size_t n, std::vector<uint32_t>* gid) {
    if (fast_keys_) {
      AssignGroups(kv, n, gid);
      return;
    }
    std::string key;
    for (size_t i = 0; i < n; ++i) {
      key.clear();
      for (const Vector* v : kv) EncodeKey(*v, i, &key);
      auto [it, inserted] = map_.try_emplace(key, static_cast<uint32_t>(groups_));
      if (inserted) {
        NewGroup(kv, i);
        var_bytes_ += static_cast<int64_t>(key.size());
      }
      (*gid)[i] = it->second;
    }
  }

 public:
  // Parallel aggregation: each worker aggregates one block at a time into
  // its own partial HashAggregate (over a copy of the scan and filter); this
  // one merges the blocks' partial states in block order. Groups then come
  // in order of first appearance and floating-point sums add up block by
  // block in block order, whatever the number of threads.
  struct Worker {
    std::unique_ptr<HashAggregate> partial;
    TableScan* scan;
  };
  void SetWorkers(std::vector<Worker> workers, size_t blocks) {
    for (Worker& w : workers) w.partial->partial_ = true;
    workers_ = std::move(workers);
    blocks_ = blocks;
    children.clear();
    children.push_back(workers_[0].partial.get());
  }

 private:
  // Some groups' partial states: one block's, or read back from a spill file.
  struct Partial {
    absl::Status status;
    size_t groups = 0;
    std::vector<std::vector<Value>> group_keys;
    std::vector<AggState> states;
    std::vector<FastDistinct> distinct;  // count(DISTINCT)'s value sets
    std::vector<int64_t> ordinals;       // where each group first appears
  };

  // Empties the table.
  void ResetTable() {
    groups_ = capacity_ = 0;
    group_keys_.clear();
    ordinal_.clear();
    map_.clear();
    group_of_id_.clear();
    group_of_pair_.clear();
    group_of_dense_pair_.clear();
    pair_rows_ = pair_stride_ = 0;
    pair_dense_ = true;
    for (ValueIds& ids : key_ids_) ids = ValueIds();
    states_.assign(aggs_.size(), AggState());
    fast_distinct_.assign(aggs_.size(), FastDistinct());
    var_bytes_ = distinct_bytes_ = 0;
    if (reservation_ != nullptr) reservation_->Set(0);
  }

  // Aggregates the rows of the child (a scan set to one block) from scratch
  // and moves the result out.
  Partial TakePartial() {
    Partial p;
    ResetTable();
    const auto t0 = std::chrono::steady_clock::now();
    p.status = Consume();
    CountRows(static_cast<int64_t>(groups_),
              std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    p.groups = groups_;
    p.group_keys = std::move(group_keys_);
    p.states = std::move(states_);
    p.distinct = std::move(fast_distinct_);
    return p;  // the next call starts from a fresh state
  }

  // Merges partial states into the table: groups new to it are added in
  // p's order, with p's ordinals.
  absl::Status MergeFrom(Partial& p) {
    const size_t n = p.groups;
    if (n == 0) return absl::OkStatus();
    std::vector<uint32_t> gid(n, 0);
    if (!keys_.empty()) {
      std::vector<Vector> vectors(keys_.size());
      std::vector<const Vector*> kv(keys_.size());
      for (size_t k = 0; k < keys_.size(); ++k) {
        Vector& v = vectors[k];
        v.Reset(keys_[k]->type(), n);
        StringHeap* heap = v.type.storage() == Storage::kString ? v.NewHeap() : nullptr;
        for (size_t g = 0; g < n; ++g) p.group_keys[g][k].ToVector(&v, g, heap);
        kv[k] = &v;
      }
      merge_ordinals_ = p.ordinals.data();
      AssignGroupIds(kv, n, &gid);
      merge_ordinals_ = nullptr;
    }
    for (size_t g = 0; g < n; ++g) ordinal_[gid[g]] = std::min(ordinal_[gid[g]], p.ordinals[g]);
    for (size_t a = 0; a < aggs_.size(); ++a) {
      const AggSpec& spec = aggs_[a];
      AggState& to = states_[a];
      AggState& from = p.states[a];
      if (spec.distinct && FastCountDistinct(spec)) {
        // count(DISTINCT): the block's (group, value) pairs, new ones counted.
        FastDistinct& mine = fast_distinct_[a];
        FastDistinct& theirs = p.distinct[a];
        for (uint64_t pair : theirs.seen) {
          const uint32_t t = gid[pair >> 32];
          const uint32_t id = mine.values.IdOf(theirs.values, static_cast<uint32_t>(pair));
          if (mine.seen.insert((uint64_t{t} << 32) | id).second) ++to.count[t];
        }
        continue;
      }
      if (spec.distinct) {
        // Other DISTINCT aggregates: the values new to the group, in order
        // (so floating-point sums add them in order of first appearance).
        std::string k;
        for (size_t g = 0; g < n; ++g) {
          const uint32_t t = gid[g];
          for (Value& v : from.distinct_values[g]) {
            k.clear();
            EncodeValueKey(v, &k);
            if (to.distinct[t].insert(k).second) {
              distinct_bytes_ += static_cast<int64_t>(k.size() + v.s.size() + sizeof(Value) + 32);
              to.distinct_values[t].push_back(std::move(v));
            }
          }
        }
        continue;
      }
      if (spec.kind == AggKind::kApproxDistinct) {
        // The union of the hashes; registers once past the exact limit
        // (the same registers as adding every hash to one state).
        for (size_t g = 0; g < n; ++g) {
          const uint32_t t = gid[g];
          if (!from.hll[g].empty()) ToRegisters(&to, t);
          for (uint64_t h : from.hashes[g]) AddHash(&to, t, h);
          if (!from.hll[g].empty()) {
            for (size_t r = 0; r < from.hll[g].size(); ++r) to.hll[t][r] = std::max(to.hll[t][r], from.hll[g][r]);
          }
        }
        continue;
      }
      for (size_t g = 0; g < n; ++g) {
        const uint32_t t = gid[g];
        switch (spec.kind) {
          case AggKind::kCountStar:
          case AggKind::kCount: to.count[t] += from.count[g]; break;
          case AggKind::kSum:
          case AggKind::kAvg:
            if (from.count[g] == 0) break;
            to.count[t] += from.count[g];
            to.isum[t] += from.isum[g];
            to.fsum[t] += from.fsum[g];
            if (__builtin_add_overflow(to.dsum[t], from.dsum[g], &to.dsum[t]) ||
                !(to.dsum[t] < kDecimalLimit && to.dsum[t] > -kDecimalLimit)) {
              return ErrorAtPos(spec.pos, "numeric field overflow: sum out of range for DECIMAL(38)");
            }
            break;
          case AggKind::kStddev: {
            // Chan et al.'s pairwise update of count, mean and M2.
            const int64_t nb = from.count[g];
            if (nb == 0) break;
            const int64_t na = to.count[t];
            if (na == 0) {
              to.count[t] = nb;
              to.mean[t] = from.mean[g];
              to.m2[t] = from.m2[g];
              break;
            }
            const double total = static_cast<double>(na + nb);
            const double delta = from.mean[g] - to.mean[t];
            to.mean[t] += delta * static_cast<double>(nb) / total;
            to.m2[t] += from.m2[g] + delta * delta * static_cast<double>(na) * static_cast<double>(nb) / total;
            to.count[t] = na + nb;
            break;
          }
          case AggKind::kMin:
          case AggKind::kMax: {
            if (!from.has[g]) break;
            if (!to.has[t]) {
              to.extreme[t] = std::move(from.extreme[g]);
              to.has[t] = 1;
              break;
            }
            const int cmp = CompareValues(from.extreme[g], to.extreme[t]);
            if (spec.kind == AggKind::kMin ? cmp < 0 : cmp > 0) to.extreme[t] = std::move(from.extreme[g]);
            break;
          }
          case AggKind::kApproxDistinct: break;  // above
        }
      }
    }
    return absl::OkStatus();
  }

  static bool FastCountDistinct(const AggSpec& spec) {
    return spec.distinct && spec.kind == AggKind::kCount && ValueIds::Supports(spec.arg->type());
  }

  absl::Status ConsumeParallel() {
    if (keys_.empty()) AddTheOnlyGroup();
    absl::Status status;
    {
      OrderedBlocks<Partial> runner(workers_.size(), blocks_, kBlocksAheadPerThread * workers_.size(),
                                    [this](size_t w, size_t b) {
                                      workers_[w].scan->StartBlock(b);
                                      Partial p = workers_[w].partial->TakePartial();
                                      // A group's ordinal: (block, position in the block's groups).
                                      p.ordinals.resize(p.groups);
                                      for (size_t g = 0; g < p.groups; ++g) {
                                        p.ordinals[g] = static_cast<int64_t>((uint64_t{b} << 32) | g);
                                      }
                                      return p;
                                    });
      while (status.ok()) {
        std::optional<Partial> p = runner.Next();
        if (!p.has_value()) break;
        if (!p->status.ok()) {
          status = p->status;
        } else if (spilled()) {
          // Once spilling, every later block's groups go to disk as they
          // are, to be merged in block order: the same arithmetic, in the
          // same order, as without a limit.
          status = WritePartial(*p, spill_.get());
        } else if (WouldOverflow(p->groups)) {
          status = FlushTable();
          if (status.ok()) status = WritePartial(*p, spill_.get());
        } else {
          status = MergeFrom(*p);
          if (status.ok() && OverLimit()) status = FlushTable();
        }
      }
      merged_blocks_ = runner.taken();
    }  // joins the threads
    for (size_t w = 1; w < workers_.size(); ++w) workers_[0].partial->AddFigures(*workers_[w].partial);
    if (status.ok() && spilled()) status = FinishSpill();
    return status;
  }

  // Group ids of n rows from one or two key columns mapped to dense ids:
  // one column indexes an array, two a map of the id pair; no key bytes are
  // built or hashed per row.
  void AssignGroups(const std::vector<const Vector*>& kv, size_t n, std::vector<uint32_t>* gid) {
    for (size_t k = 0; k < kv.size(); ++k) {
      key_ids_scratch_[k].resize(n);
      key_ids_[k].Map(*kv[k], n, key_ids_scratch_[k].data());
    }
    const uint32_t* a = key_ids_scratch_[0].data();
    const uint32_t* b = kv.size() > 1 ? key_ids_scratch_[1].data() : nullptr;
    for (size_t i = 0; i < n; ++i) {
      uint32_t* slot;
      if (b == nullptr) {
        if (a[i] >= group_of_id_.size()) group_of_id_.resize(std::max<size_t>(a[i] + 1, group_of_id_.size() * 2), kNoGroup);
        slot = &group_of_id_[a[i]];
      } else if (pair_dense_ && (a[i] < pair_rows_ && b[i] < pair_stride_)) {
        slot = &group_of_dense_pair_[a[i] * pair_stride_ + b[i]];
      } else if (pair_dense_ && GrowDensePairs(a[i], b[i])) {
        slot = &group_of_dense_pair_[a[i] * pair_stride_ + b[i]];
      } else {
        slot = &group_of_pair_.try_emplace((uint64_t{a[i]} << 32) | b[i], kNoGroup).first->second;
      }
      if (*slot == kNoGroup) {
        *slot = static_cast<uint32_t>(groups_);
        NewGroup(kv, i);
      }
      (*gid)[i] = *slot;
    }
  }

  // Two keys whose ids stay small (codes, flags, segments): the id pair
  // indexes an array (rows of pair_stride_ entries) instead of a hash map.
  // Grows to hold (x, y); past kMaxDensePairs entries the pairs move to the
  // map for good (false).
  __attribute__((noinline)) bool GrowDensePairs(uint32_t x, uint32_t y) {
    static constexpr size_t kMaxDensePairs = size_t{1} << 14;
    size_t rows = std::max<size_t>(pair_rows_, 8), stride = std::max<size_t>(pair_stride_, 8);
    while (rows <= x) rows *= 2;
    while (stride <= y) stride *= 2;
    if (rows * stride > kMaxDensePairs) {
      for (size_t r = 0; r < pair_rows_; ++r) {
        for (size_t c = 0; c < pair_stride_; ++c) {
          const uint32_t g = group_of_dense_pair_[r * pair_stride_ + c];
          if (g != kNoGroup) group_of_pair_.emplace((uint64_t{r} << 32) | c, g);
        }
      }
      pair_dense_ = false;
      std::vector<uint32_t>().swap(group_of_dense_pair_);
      pair_rows_ = pair_stride_ = 0;
      return false;
    }
    std::vector<uint32_t> grown(rows * stride, kNoGroup);
    for (size_t r = 0; r < pair_rows_; ++r) {
      std::copy_n(group_of_dense_pair_.begin() + static_cast<ptrdiff_t>(r * pair_stride_), pair_stride_,
                  grown.begin() + static_cast<ptrdiff_t>(r * stride));
    }
    group_of_dense_pair_ = std::move(grown);
    pair_rows_ = rows;
    pair_stride_ = stride;
    return true;
  }

  absl::Status Update(size_t a, const Batch& in, const std::vector<uint32_t>& gid) {
    AggSpec& spec = aggs_[a];
    AggState& s = states_[a];
    if (spec.kind == AggKind::kCountStar) {
      for (size_t i = 0; i < in.size; ++i) ++s.count[gid[i]];
      return absl::OkStatus();
    }
    const Vector* x = nullptr;
    RETL_RETURN_IF_ERROR(WithPos(spec.arg->Eval(in, &x), spec.pos));
    if (spec.distinct && spec.kind == AggKind::kCount && ValueIds::Supports(x->type)) {
      // Counted as they are first seen: a set of (group, value id) pairs.
      FastDistinct& d = fast_distinct_[a];
      d.ids.resize(in.size);
      d.values.Map(*x, in.size, d.ids.data());
      for (size_t i = 0; i < in.size; ++i) {
        if (d.ids[i] != 0 && d.seen.insert((uint64_t{gid[i]} << 32) | d.ids[i]).second) ++s.count[gid[i]];
      }
      return absl::OkStatus();
    }
    if (spec.distinct) {
      std::string k;
      for (size_t i = 0; i < in.size; ++i) {
        if (!x->valid[i]) continue;
        k.clear();
        EncodeKey(*x, i, &k);
        if (s.distinct[gid[i]].insert(k).second) {
          s.distinct_values[gid[i]].push_back(Value::FromVector(*x, i));
          distinct_bytes_ += static_cast<int64_t>(2 * k.size() + sizeof(Value) + 32);
        }
      }
      return absl::OkStatus();
    }
    return UpdateRows(a, *x, gid.data(), in.size);
  }

  absl::Status UpdateRows(size_t a, const Vector& x, const uint32_t* gid, size_t n) {
    AggSpec& spec = aggs_[a];
    AggState& s = states_[a];
    const SqlType t = x.type;
    switch (spec.kind) {
      case AggKind::kCountStar:
        break;
      case AggKind::kCount:
        for (size_t i = 0; i < n; ++i) s.count[gid[i]] += x.valid[i];
        break;
      case AggKind::kSum:
      case AggKind::kAvg:
        // One loop per type, without a branch per row for the common ones.
        if (t.IsFloating()) {
          const uint8_t* valid = x.valid.data();
          const double* v = x.f64.data();
          for (size_t i = 0; i < n; ++i) {
            if (!valid[i]) continue;  // adding 0.0 would turn a -0.0 sum into 0.0
            ++s.count[gid[i]];
            s.fsum[gid[i]] += v[i];
          }
          break;
        }
        if (t.kind != SqlKind::kDecimal) {
          const uint8_t* valid = x.valid.data();
          const int64_t* v = x.i64.data();
          int64_t* count = s.count.data();
          int128* sum = s.isum.data();
          for (size_t i = 0; i < n; ++i) {
            count[gid[i]] += valid[i];
            sum[gid[i]] += valid[i] ? v[i] : 0;  // cannot overflow int128 below 2^64 rows
          }
          break;
        }
        // DECIMAL: exact, checked against DECIMAL(38).
        for (size_t i = 0; i < n; ++i) {
          if (!x.valid[i]) continue;
          const uint32_t g = gid[i];
          ++s.count[g];
          const int128 v = t.storage() == Storage::kInt128 ? x.i128[i] : int128{x.i64[i]};
          if (__builtin_add_overflow(s.dsum[g], v, &s.dsum[g]) ||
              !(s.dsum[g] < kDecimalLimit && s.dsum[g] > -kDecimalLimit)) {
            return ErrorAtPos(spec.pos, "numeric field overflow: sum out of range for DECIMAL(38)");
          }
        }
        break;
      case AggKind::kStddev:
        for (size_t i = 0; i < n; ++i) {
          if (!x.valid[i]) continue;
          const uint32_t g = gid[i];
          double d = t.IsFloating() ? x.f64[i]
                     : t.kind == SqlKind::kDecimal
                         ? static_cast<double>(t.storage() == Storage::kInt128 ? x.i128[i] : int128{x.i64[i]}) /
                               std::pow(10.0, t.scale)
                         : static_cast<double>(x.i64[i]);
          ++s.count[g];
          double delta = d - s.mean[g];
          s.mean[g] += delta / static_cast<double>(s.count[g]);
          s.m2[g] += delta * (d - s.mean[g]);
        }
        break;
      case AggKind::kMin:
      case AggKind::kMax: {
        // A Value is built for a group's first value only; later ones are
        // compared and copied in place.
        const bool is_min = spec.kind == AggKind::kMin;
        const Storage st = t.storage();
        for (size_t i = 0; i < n; ++i) {
          if (!x.valid[i]) continue;
          const uint32_t g = gid[i];
          Value& e = s.extreme[g];
          if (!s.has[g]) {
            e = Value::FromVector(x, i);
            s.has[g] = 1;
            continue;
          }
          switch (st) {
            case Storage::kInt64:
              if (is_min ? x.i64[i] < e.i : x.i64[i] > e.i) e.i = x.i64[i];
              break;
            case Storage::kDouble: {
              // CompareValues' order: NaN above every number.
              const double d = x.f64[i];
              const bool replace = !std::isnan(d) && !std::isnan(e.d) ? (is_min ? d < e.d : d > e.d)
                                                                      : (is_min ? !std::isnan(d) : !std::isnan(e.d));
              if (replace) e.d = d;
              break;
            }
            case Storage::kString: {
              const int cmp = x.str[i].compare(e.s);
              if (is_min ? cmp < 0 : cmp > 0) e.s.assign(x.str[i]);
              break;
            }
            default: {
              Value c = Value::FromVector(x, i);
              const int cmp = CompareValues(c, e);
              if (is_min ? cmp < 0 : cmp > 0) e = std::move(c);
            }
          }
        }
        break;
      }
      case AggKind::kApproxDistinct: {
        std::string k;
        for (size_t i = 0; i < n; ++i) {
          if (!x.valid[i]) continue;
          const uint32_t g = gid[i];
          k.clear();
          EncodeKey(x, i, &k);
          AddHash(&s, g, XXH64(k.data(), k.size(), 0));
        }
        break;
      }
    }
    return absl::OkStatus();
  }

  // approx_count_distinct: exact hashes up to kHllExactLimit, then
  // HyperLogLog registers.
  void AddHash(AggState* s, uint32_t g, uint64_t h) {
    if (s->hll[g].empty()) {
      if (s->hashes[g].insert(h).second) distinct_bytes_ += 9;
      if (s->hashes[g].size() > kHllExactLimit) ToRegisters(s, g);
    } else {
      AddHll(&s->hll[g], h);
    }
  }
  void ToRegisters(AggState* s, uint32_t g) {
    if (!s->hll[g].empty()) return;
    s->hll[g].assign(size_t{1} << kHllBits, 0);
    for (uint64_t h : s->hashes[g]) AddHll(&s->hll[g], h);
    distinct_bytes_ += (int64_t{1} << kHllBits) - 9 * static_cast<int64_t>(s->hashes[g].size());
    absl::flat_hash_set<uint64_t>().swap(s->hashes[g]);
  }

  static void AddHll(std::vector<uint8_t>* regs, uint64_t h) {
    size_t idx = h >> (64 - kHllBits);
    uint64_t rest = (h << kHllBits) | (uint64_t{1} << (kHllBits - 1));
    uint8_t rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    (*regs)[idx] = std::max((*regs)[idx], rank);
  }

  absl::StatusOr<Value> Final(size_t a, size_t g) {
    AggSpec& spec = aggs_[a];
    AggState& s = states_[a];
    if (spec.distinct && spec.kind == AggKind::kCount && ValueIds::Supports(spec.arg->type())) {
      return Value::Int(SqlKind::kBigInt, s.count[g]);  // counted by the fast path
    }
    if (spec.distinct) {
      // Feed the distinct values through a plain state once.
      const std::vector<Value>& vals = s.distinct_values[g];
      if (spec.kind == AggKind::kCount) return Value::Int(SqlKind::kBigInt, static_cast<int64_t>(vals.size()));
      Vector v;
      v.Reset(spec.arg->type(), vals.size());
      StringHeap* heap = v.type.storage() == Storage::kString ? v.NewHeap() : nullptr;
      for (size_t i = 0; i < vals.size(); ++i) vals[i].ToVector(&v, i, heap);
      HashAggregate tmp(nullptr, {}, {});
      AggSpec copy{spec.kind, false, MakeColumnRef(0, spec.arg->type(), spec.text), spec.type, spec.text, spec.pos};
      tmp.aggs_.push_back(std::move(copy));
      tmp.states_.resize(1);
      tmp.Grow(1);
      std::vector<uint32_t> zeros(vals.size(), 0);
      RETL_RETURN_IF_ERROR(tmp.UpdateRows(0, v, zeros.data(), vals.size()));
      return tmp.Final(0, 0);
    }
    switch (spec.kind) {
      case AggKind::kCountStar:
      case AggKind::kCount:
        return Value::Int(SqlKind::kBigInt, s.count[g]);
      case AggKind::kSum:
        if (s.count[g] == 0) return Value::Null(spec.type);
        if (spec.type.IsFloating()) return Value::Double(s.fsum[g]);
        if (spec.type.kind == SqlKind::kDecimal) return Value::Decimal(spec.type, s.dsum[g]);
        if (s.isum[g] > INT64_MAX || s.isum[g] < INT64_MIN) {
          return ErrorAtPos(spec.pos, "bigint out of range in sum() (CAST the argument to DECIMAL(38,0))");
        }
        return Value::Int(SqlKind::kBigInt, static_cast<int64_t>(s.isum[g]));
      case AggKind::kAvg: {
        if (s.count[g] == 0) return Value::Null(spec.type);
        const SqlType in = spec.arg->type();
        const long double n = static_cast<long double>(s.count[g]);
        // Exact sums, one rounding in the division.
        if (in.IsFloating()) return Value::Double(s.fsum[g] / static_cast<double>(s.count[g]));
        if (in.kind == SqlKind::kDecimal) {
          long double scale = std::pow(10.0L, static_cast<long double>(in.scale));
          return Value::Double(static_cast<double>(static_cast<long double>(s.dsum[g]) / scale / n));
        }
        return Value::Double(static_cast<double>(static_cast<long double>(s.isum[g]) / n));
      }
      case AggKind::kStddev:
        if (s.count[g] < 2) return Value::Null(spec.type);
        return Value::Double(std::sqrt(s.m2[g] / static_cast<double>(s.count[g] - 1)));
      case AggKind::kMin:
      case AggKind::kMax:
        if (!s.has[g]) return Value::Null(spec.type);
        return s.extreme[g];
      case AggKind::kApproxDistinct: {
        if (s.hll[g].empty()) return Value::Int(SqlKind::kBigInt, static_cast<int64_t>(s.hashes[g].size()));
        const double m = static_cast<double>(size_t{1} << kHllBits);
        double sum = 0;
        int zeros = 0;
        for (uint8_t r : s.hll[g]) {
          sum += std::ldexp(1.0, -r);
          zeros += r == 0;
        }
        double est = 0.7213 / (1 + 1.079 / m) * m * m / sum;
        if (est <= 2.5 * m && zeros > 0) est = m * std::log(m / zeros);
        return Value::Int(SqlKind::kBigInt, static_cast<int64_t>(std::llround(est)));
      }
    }
    return Value::Null(spec.type);
  }


  // ---- Memory limit and spilling (docs/sql.md, "Memory and spilling")
  //
  // Over the limit, the table's groups are written to kFanout partition
  // files by a hash of their key, with their partial states, and the table
  // starts empty. With a scan below, every later block's partial groups go
  // straight to the partitions, in block order. At the end each partition is
  // merged on its own (recursively partitioned again, with another hash,
  // if it still does not fit), its groups finalized into a result file in
  // order of first appearance, and the result files are merged by that
  // order: the rows, their order and their arithmetic are those of a run
  // without a limit.

  static constexpr int kFanoutBits = 4;
  static constexpr size_t kFanout = size_t{1} << kFanoutBits;
  static constexpr int kMaxSpillDepth = 4;

  struct Partitions {
    int depth = 1;  // seeds the hash
    std::vector<std::unique_ptr<SpillFile>> files;
    std::vector<Batch> pending;  // rows not yet written, per partition
    std::vector<std::vector<StringHeap*>> heaps;  // their string columns' heaps
  };

  bool spilled() const { return spilled_; }

  int64_t TableBytes() const {
    int64_t b = static_cast<int64_t>(capacity_) * per_group_bytes_ + var_bytes_ + distinct_bytes_ +
                static_cast<int64_t>(group_of_id_.capacity() * 4 + group_of_pair_.capacity() * 13 +
                                     group_of_dense_pair_.capacity() * 4 +
                                     map_.capacity() * (sizeof(std::string) + 5));
    for (const ValueIds& ids : key_ids_) b += ids.Bytes();
    for (const FastDistinct& d : fast_distinct_) b += d.values.Bytes() + static_cast<int64_t>(d.seen.capacity() * 9);
    return b;
  }

  // Records the table's size; true when the query is over its limit and
  // flushing the table would help: it holds at least kMinSpillBytes (or,
  // without GROUP BY, is itself over the limit).
  bool OverLimit() {
    if (reservation_ == nullptr) return false;
    const bool within = reservation_->Set(TableBytes());
    if (keys_.empty()) return reservation_->held() > memory_->limit();
    return !within && reservation_->held() >= kMinSpillBytes;
  }

  // Whether adding up to `incoming` groups could take the query over its
  // limit (the table's arrays and maps double when they grow): then the
  // table is flushed first, so the limit holds.
  bool WouldOverflow(size_t incoming) const {
    if (reservation_ == nullptr || keys_.empty()) return false;
    int64_t next = TableBytes() + static_cast<int64_t>(incoming) * per_group_bytes_;
    if (groups_ + incoming > capacity_) {
      next += std::max(static_cast<int64_t>(incoming) * per_group_bytes_,
                       static_cast<int64_t>(capacity_) * per_group_bytes_ + TableBytes());
    }
    return next >= kMinSpillBytes && memory_->used() - reservation_->held() + next > memory_->limit();
  }

  absl::Status OutOfMemory() const {
    if (keys_.empty()) {
      std::string what;
      for (const AggSpec& a : aggs_) {
        if (a.distinct || a.kind == AggKind::kApproxDistinct) what = a.text;
      }
      return absl::ResourceExhaustedError(
          StrCat("the query needs more memory than memory_limit (", FormatBytes(memory_->limit()), "): ", what,
                 " without GROUP BY keeps all its values in memory and cannot spill them; raise memory_limit "
                 "(SET memory_limit = '...') or use approx_count_distinct"));
    }
    return absl::ResourceExhaustedError(
        StrCat("the query needs more memory than memory_limit (", FormatBytes(memory_->limit()),
               ") even after spilling: some groups' states (DISTINCT values, long keys) do not fit; raise "
               "memory_limit (SET memory_limit = '...')"));
  }

  // The columns of an aggregate's state in PartialTypes().
  static size_t StateColumns(const AggSpec& a) {
    if (a.distinct) return 1;
    switch (a.kind) {
      case AggKind::kSum:
      case AggKind::kAvg: return 4;
      case AggKind::kStddev: return 3;
      default: return 1;
    }
  }

  const std::vector<SqlType>& PartialTypes() {
    if (!partial_types_.empty()) return partial_types_;
    const SqlType big = SqlType::Of(SqlKind::kBigInt), wide = SqlType::Decimal(38, 0),
                  dbl = SqlType::Of(SqlKind::kDouble), blob = SqlType::Of(SqlKind::kBinary);
    std::vector<SqlType>& t = partial_types_;
    t.push_back(big);  // ordinal
    for (const ExprPtr& k : keys_) t.push_back(k->type());
    for (const AggSpec& a : aggs_) {
      if (a.distinct) {
        t.push_back(blob);  // the values
        continue;
      }
      switch (a.kind) {
        case AggKind::kCountStar:
        case AggKind::kCount: t.push_back(big); break;
        case AggKind::kSum:
        case AggKind::kAvg: t.insert(t.end(), {big, wide, wide, dbl}); break;
        case AggKind::kStddev: t.insert(t.end(), {big, dbl, dbl}); break;
        case AggKind::kMin:
        case AggKind::kMax: t.push_back(a.arg->type()); break;  // NULL: no value yet
        case AggKind::kApproxDistinct: t.push_back(blob); break;
      }
    }
    return t;
  }

  std::unique_ptr<Partitions> NewPartitions(int depth) {
    auto parts = std::make_unique<Partitions>();
    parts->depth = depth;
    parts->files.resize(kFanout);
    parts->pending.resize(kFanout);
    parts->heaps.resize(kFanout);
    spilled_ = true;
    spill_depth_ = std::max(spill_depth_, depth);
    return parts;
  }

  static size_t PartitionOf(const std::vector<Value>& key, int depth) {
    std::string k;
    for (const Value& v : key) EncodeValueKey(v, &k);
    return static_cast<size_t>(XXH64(k.data(), k.size(), 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(depth)) >>
                               (64 - kFanoutBits));
  }

  absl::Status WritePending(Partitions* parts, size_t p) {
    Batch& b = parts->pending[p];
    if (b.size == 0) return absl::OkStatus();
    if (parts->files[p] == nullptr) {
      RETL_ASSIGN_OR_RETURN(parts->files[p], SpillFile::Create(memory_, PartialTypes()));
    }
    RETL_RETURN_IF_ERROR(parts->files[p]->Write(b));
    b = Batch();
    return absl::OkStatus();
  }

  // Appends groups [0, n) of a partial state (a block's, or the table's) to
  // the partitions.
  absl::Status WriteGroups(size_t n, const std::vector<std::vector<Value>>& keys, const std::vector<AggState>& states,
                           const std::vector<FastDistinct>& distinct, const std::vector<int64_t>& ordinals,
                           Partitions* parts) {
    const std::vector<SqlType>& types = PartialTypes();
    // count(DISTINCT)'s (group, value id) pairs, by group.
    std::vector<std::vector<std::vector<uint32_t>>> ids(aggs_.size());
    for (size_t a = 0; a < aggs_.size(); ++a) {
      if (!FastCountDistinct(aggs_[a])) continue;
      ids[a].resize(n);
      for (uint64_t pair : distinct[a].seen) ids[a][pair >> 32].push_back(static_cast<uint32_t>(pair));
    }
    std::string blob;
    for (size_t g = 0; g < n; ++g) {
      const size_t p = PartitionOf(keys[g], parts->depth);
      Batch& b = parts->pending[p];
      std::vector<StringHeap*>& heaps = parts->heaps[p];
      if (b.columns.empty()) {
        b.columns.resize(types.size());
        heaps.assign(types.size(), nullptr);
        for (size_t c = 0; c < types.size(); ++c) {
          b.columns[c].Reset(types[c], kBatchRows);
          if (types[c].storage() == Storage::kString) heaps[c] = b.columns[c].NewHeap();
        }
      }
      const size_t r = b.size;
      auto heap = [&heaps](size_t c) { return heaps[c]; };
      size_t c = 0;
      b.columns[c++].i64[r] = ordinals[g];
      for (size_t k = 0; k < keys_.size(); ++k, ++c) keys[g][k].ToVector(&b.columns[c], r, heap(c));
      for (size_t a = 0; a < aggs_.size(); ++a) {
        const AggSpec& spec = aggs_[a];
        const AggState& st = states[a];
        if (spec.distinct) {
          blob.clear();
          if (FastCountDistinct(spec)) {
            for (uint32_t id : ids[a][g]) distinct[a].values.AppendRaw(id, &blob);
          } else {
            for (const Value& v : st.distinct_values[g]) AppendValueRaw(v, &blob);
          }
          b.columns[c].str[r] = heap(c)->Add(blob);
          ++c;
          continue;
        }
        switch (spec.kind) {
          case AggKind::kCountStar:
          case AggKind::kCount: b.columns[c++].i64[r] = st.count[g]; break;
          case AggKind::kSum:
          case AggKind::kAvg:
            b.columns[c++].i64[r] = st.count[g];
            b.columns[c++].i128[r] = st.isum[g];
            b.columns[c++].i128[r] = st.dsum[g];
            b.columns[c++].f64[r] = st.fsum[g];
            break;
          case AggKind::kStddev:
            b.columns[c++].i64[r] = st.count[g];
            b.columns[c++].f64[r] = st.mean[g];
            b.columns[c++].f64[r] = st.m2[g];
            break;
          case AggKind::kMin:
          case AggKind::kMax:
            if (st.has[g]) st.extreme[g].ToVector(&b.columns[c], r, heap(c));
            else b.columns[c].valid[r] = 0;
            ++c;
            break;
          case AggKind::kApproxDistinct: {
            blob.clear();
            blob.push_back(st.hll[g].empty() ? 0 : 1);
            if (st.hll[g].empty()) {
              for (uint64_t h : st.hashes[g]) blob.append(reinterpret_cast<const char*>(&h), 8);
            } else {
              blob.append(reinterpret_cast<const char*>(st.hll[g].data()), st.hll[g].size());
            }
            b.columns[c].str[r] = heap(c)->Add(blob);
            ++c;
            break;
          }
        }
      }
      if (++b.size == kBatchRows) RETL_RETURN_IF_ERROR(WritePending(parts, p));
    }
    spilled_groups_ += static_cast<int64_t>(n);
    return absl::OkStatus();
  }

  absl::Status WritePartial(const Partial& p, Partitions* parts) {
    return WriteGroups(p.groups, p.group_keys, p.states, p.distinct, p.ordinals, parts);
  }

  // The table's groups to the partitions; the table starts again empty.
  absl::Status FlushTable() {
    if (keys_.empty()) return OutOfMemory();
    if (spill_ == nullptr) spill_ = NewPartitions(1);
    RETL_RETURN_IF_ERROR(WriteGroups(groups_, group_keys_, states_, fast_distinct_, ordinal_, spill_.get()));
    ResetTable();
    return absl::OkStatus();
  }

  // A spill file's batch back as partial states.
  Partial FromBatch(const Batch& b) {
    Partial q;
    const size_t n = b.size;
    q.groups = n;
    q.ordinals.assign(b.columns[0].i64.begin(), b.columns[0].i64.begin() + static_cast<ptrdiff_t>(n));
    q.group_keys.resize(n);
    size_t c = 1;
    for (size_t k = 0; k < keys_.size(); ++k, ++c) {
      for (size_t g = 0; g < n; ++g) q.group_keys[g].push_back(Value::FromVector(b.columns[c], g));
    }
    q.states.resize(aggs_.size());
    q.distinct.resize(aggs_.size());
    for (size_t a = 0; a < aggs_.size(); ++a) {
      const AggSpec& spec = aggs_[a];
      AggState& st = q.states[a];
      GrowState(spec, n, &st);
      if (spec.distinct) {
        const Vector& v = b.columns[c++];
        for (size_t g = 0; g < n; ++g) {
          const char* p = v.str[g].data();
          const char* end = p + v.str[g].size();
          if (FastCountDistinct(spec)) {
            FastDistinct& d = q.distinct[a];
            while (p < end) d.seen.insert((uint64_t{g} << 32) | d.values.IdOfRaw(&p));
          } else {
            while (p < end) st.distinct_values[g].push_back(ReadValueRaw(spec.arg->type(), &p));
          }
        }
        continue;
      }
      const size_t first = c;
      c += StateColumns(spec);
      for (size_t g = 0; g < n; ++g) {
        size_t cc = first;
        switch (spec.kind) {
          case AggKind::kCountStar:
          case AggKind::kCount: st.count[g] = b.columns[cc++].i64[g]; break;
          case AggKind::kSum:
          case AggKind::kAvg:
            st.count[g] = b.columns[cc++].i64[g];
            st.isum[g] = b.columns[cc++].i128[g];
            st.dsum[g] = b.columns[cc++].i128[g];
            st.fsum[g] = b.columns[cc++].f64[g];
            break;
          case AggKind::kStddev:
            st.count[g] = b.columns[cc++].i64[g];
            st.mean[g] = b.columns[cc++].f64[g];
            st.m2[g] = b.columns[cc++].f64[g];
            break;
          case AggKind::kMin:
          case AggKind::kMax:
            st.has[g] = b.columns[cc].valid[g];
            if (st.has[g]) st.extreme[g] = Value::FromVector(b.columns[cc], g);
            ++cc;
            break;
          case AggKind::kApproxDistinct: {
            const std::string_view blob = b.columns[cc++].str[g];
            if (blob[0] == 0) {
              for (size_t i = 1; i + 8 <= blob.size(); i += 8) {
                uint64_t h;
                std::memcpy(&h, blob.data() + i, 8);
                st.hashes[g].insert(h);
              }
            } else {
              st.hll[g].assign(blob.begin() + 1, blob.end());
            }
            break;
          }
        }
      }
    }
    return q;
  }

  // After the input: every partition merged and finalized.
  absl::Status FinishSpill() {
    if (groups_ > 0) RETL_RETURN_IF_ERROR(FlushTable());
    std::unique_ptr<Partitions> parts = std::move(spill_);
    total_groups_ = 0;
    RETL_RETURN_IF_ERROR(MergePartitions(parts.get()));
    ResetTable();
    // The result files, merged by ordinal (their last column; unique).
    std::vector<SpillFile*> files;
    for (const auto& f : results_) files.push_back(f.get());
    std::vector<SqlType> types(result_types_.begin(), result_types_.end() - 1);
    return merge_.Start(std::move(files), std::move(types),
                        [](const Batch& a, size_t ar, size_t, const Batch& b, size_t br, size_t) {
                          return a.columns.back().i64[ar] < b.columns.back().i64[br];
                        });
  }

  absl::Status MergePartitions(Partitions* parts) {
    for (size_t p = 0; p < kFanout; ++p) RETL_RETURN_IF_ERROR(WritePending(parts, p));
    for (size_t p = 0; p < kFanout; ++p) {
      std::unique_ptr<SpillFile> file = std::move(parts->files[p]);
      if (file == nullptr) continue;
      RETL_RETURN_IF_ERROR(file->FinishWriting());
      spilled_bytes_ += file->bytes();
      ResetTable();
      std::unique_ptr<Partitions> sub;
      Batch b;
      while (true) {
        RETL_ASSIGN_OR_RETURN(bool more, file->Read(&b));
        if (!more) break;
        Partial q = FromBatch(b);
        if (sub != nullptr) {
          RETL_RETURN_IF_ERROR(WritePartial(q, sub.get()));
          continue;
        }
        const bool split = parts->depth < kMaxSpillDepth && WouldOverflow(q.groups);
        if (!split) RETL_RETURN_IF_ERROR(MergeFrom(q));
        if (split || OverLimit()) {
          // Still too big: split this partition again with another hash.
          if (parts->depth >= kMaxSpillDepth) return OutOfMemory();
          sub = NewPartitions(parts->depth + 1);
          RETL_RETURN_IF_ERROR(WriteGroups(groups_, group_keys_, states_, fast_distinct_, ordinal_, sub.get()));
          ResetTable();
          if (split) RETL_RETURN_IF_ERROR(WritePartial(q, sub.get()));
        }
      }
      file.reset();  // frees its disk space
      if (sub != nullptr) {
        RETL_RETURN_IF_ERROR(MergePartitions(sub.get()));
        continue;
      }
      RETL_RETURN_IF_ERROR(WriteResults());
      ++merged_partitions_;
    }
    return absl::OkStatus();
  }

  // The table's groups, finalized, to a result file in ordinal order (the
  // last column).
  absl::Status WriteResults() {
    if (groups_ == 0) return absl::OkStatus();
    if (result_types_.empty()) {
      for (const ExprPtr& k : keys_) result_types_.push_back(k->type());
      for (const AggSpec& a : aggs_) result_types_.push_back(a.type);
      result_types_.push_back(SqlType::Of(SqlKind::kBigInt));
    }
    std::vector<uint32_t> order(groups_);
    for (size_t g = 0; g < groups_; ++g) order[g] = static_cast<uint32_t>(g);
    if (!std::is_sorted(ordinal_.begin(), ordinal_.begin() + static_cast<ptrdiff_t>(groups_))) {
      std::sort(order.begin(), order.end(), [this](uint32_t x, uint32_t y) { return ordinal_[x] < ordinal_[y]; });
    }
    RETL_ASSIGN_OR_RETURN(std::unique_ptr<SpillFile> file, SpillFile::Create(memory_, result_types_));
    for (size_t from = 0; from < groups_; from += kBatchRows) {
      const size_t n = std::min(kBatchRows, groups_ - from);
      Batch b;
      RETL_RETURN_IF_ERROR(EmitGroups(from, n, &b, &order));
      b.columns.emplace_back();
      Vector& ord = b.columns.back();
      ord.Reset(SqlType::Of(SqlKind::kBigInt), n);
      for (size_t i = 0; i < n; ++i) ord.i64[i] = ordinal_[order[from + i]];
      RETL_RETURN_IF_ERROR(file->Write(b));
    }
    RETL_RETURN_IF_ERROR(file->FinishWriting());
    spilled_bytes_ += file->bytes();
    total_groups_ += groups_;
    results_.push_back(std::move(file));
    return absl::OkStatus();
  }

  OpPtr child_;
  std::vector<ExprPtr> keys_;
  std::vector<AggSpec> aggs_;
  std::vector<SourcePos> key_pos_;
  std::vector<AggState> states_;
  absl::flat_hash_map<std::string, uint32_t> map_;  // group keys' bytes -> group
  // The fast path (AssignGroups) for one or two keys that ValueIds supports.
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  bool fast_keys_ = false;
  std::vector<ValueIds> key_ids_;
  std::vector<std::vector<uint32_t>> key_ids_scratch_;
  std::vector<uint32_t> group_of_id_;                   // one key: its id -> group
  absl::flat_hash_map<uint64_t, uint32_t> group_of_pair_;  // two keys: id pair -> group
  bool pair_dense_ = true;  // two keys: while their ids are small, this array instead
  std::vector<uint32_t> group_of_dense_pair_;
  size_t pair_rows_ = 0, pair_stride_ = 0;
  std::vector<FastDistinct> fast_distinct_;  // per aggregate
  std::vector<std::vector<Value>> group_keys_;
  size_t groups_ = 0;
  size_t capacity_ = 0;
  size_t emitted_ = 0;
  bool consumed_ = false;
  bool from_metadata_ = false;
  bool partial_ = false;         // a worker's: aggregates one block at a time
  std::vector<Worker> workers_;  // parallel: the per-thread partial aggregates
  size_t blocks_ = 0;
  size_t merged_blocks_ = 0;
  // Memory and spilling.
  QueryMemory* memory_ = nullptr;
  std::unique_ptr<MemoryReservation> reservation_;
  int64_t per_group_bytes_ = 0;  // fixed, times capacity_
  int64_t var_bytes_ = 0;        // key strings
  int64_t distinct_bytes_ = 0;   // DISTINCT values, approx_count_distinct's hashes
  std::vector<int64_t> ordinal_;  // per group: where it first appears
  int64_t ordinal_base_ = 0;               // the ordinal of the batch's row 0
  const int64_t* merge_ordinals_ = nullptr;  // MergeFrom: the new groups' ordinals
  bool spilled_ = false;
  std::unique_ptr<Partitions> spill_;  // while consuming, once over the limit
  std::vector<SqlType> partial_types_;
  std::vector<SqlType> result_types_;
  std::vector<std::unique_ptr<SpillFile>> results_;
  SpillMerge merge_;  // of results_
  size_t total_groups_ = 0;
  int64_t spilled_bytes_ = 0;
  int64_t spilled_groups_ = 0;
  size_t merged_partitions_ = 0;
  int spill_depth_ = 0;
};

// ---------------------------------------------------------------------------
// Sort, top-N, limit

struct SortKey {
  int column;
  bool descending;
  bool nulls_first;
};

class Sort final : public Operator {
 public:
  Sort(OpPtr child, std::vector<SortKey> keys, std::optional<int64_t> limit)
      : child_(std::move(child)), keys_(std::move(keys)), limit_(limit) {
    children.push_back(child_.get());
  }
  std::string Describe() const override {
    std::string s = limit_.has_value() ? StrCat("TOP ", *limit_, " BY ") : "SORT BY ";
    for (size_t i = 0; i < keys_.size(); ++i) {
      s += StrCat(i ? ", " : "", "#", keys_[i].column + 1, keys_[i].descending ? " DESC" : " ASC",
                  keys_[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
    }
    return s;
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    if (!sorted_) {
      RETL_RETURN_IF_ERROR(Consume());
      sorted_ = true;
    }
    if (!runs_.empty()) return NextMerged(out);
    if (pos_ >= order_.size() || batches_.empty()) return false;
    size_t n = std::min(kBatchRows, order_.size() - pos_);
    *out = Gather(pos_, n);
    pos_ += n;
    return true;
  }

 public:
  // Limits the buffered rows' memory to the query's limit: beyond it,
  // sorted runs go to temporary files and are merged at the end.
  void SetMemory(QueryMemory* memory) {
    memory_ = memory;
    reservation_ = std::make_unique<MemoryReservation>(memory);
  }
  std::string RuntimeDetail() const override {
    if (reservation_ == nullptr) return "";
    std::string s = StrCat("memory peak ", FormatBytes(reservation_->peak()), " of limit ",
                           FormatBytes(memory_->limit()));
    if (!runs_.empty()) {
      absl::StrAppend(&s, "; spilled ", spilled_rows_, " rows (", FormatBytes(spilled_bytes_), ") in ", runs_.size(),
                      " sorted runs to temporary files, merged");
    }
    return s;
  }

 private:
  // Input order breaks ties: the sort is stable.
  bool Less(uint64_t x, uint64_t y) const {
    const int c = Compare(x, y);
    return c < 0 || (c == 0 && x < y);
  }

  static int64_t BatchBytes(const Batch& b) {
    int64_t bytes = 0;
    for (const Vector& v : b.columns) {
      bytes += static_cast<int64_t>(b.size);  // validity
      switch (v.type.storage()) {
        case Storage::kInt64:
        case Storage::kDouble: bytes += static_cast<int64_t>(8 * b.size); break;
        case Storage::kInt128:
        case Storage::kInterval: bytes += static_cast<int64_t>(16 * b.size); break;
        case Storage::kString:
          bytes += static_cast<int64_t>(16 * b.size);
          if (v.constant) break;
          for (size_t i = 0; i < b.size; ++i) bytes += static_cast<int64_t>(v.str[i].size());
          break;
      }
    }
    return bytes;
  }

  absl::Status Consume() {
    Batch b;
    auto less = [this](uint64_t x, uint64_t y) { return Less(x, y); };
    // Top-N keeps at most a few times N rows: when more pile up, the best
    // N are copied into one batch and the rest dropped.
    const size_t cap = limit_.has_value() ? std::max<size_t>(8 * kBatchRows, 4 * static_cast<size_t>(*limit_))
                                          : SIZE_MAX;
    while (true) {
      RETL_ASSIGN_OR_RETURN(bool more, child_->Pull(&b));
      if (!more) break;
      if (types_.empty()) {
        for (const Vector& v : b.columns) types_.push_back(v.type);
      }
      for (size_t i = 0; i < b.size; ++i) order_.push_back((uint64_t{batches_.size()} << 32) | i);
      held_bytes_ += BatchBytes(b);
      batches_.push_back(std::move(b));
      b = Batch();
      if (order_.size() > cap) {
        const size_t n = static_cast<size_t>(*limit_);
        std::partial_sort(order_.begin(), order_.begin() + static_cast<ptrdiff_t>(n), order_.end(), less);
        order_.resize(n);
        keeps_.clear();
        Batch kept = Gather(0, n);
        batches_.clear();
        held_bytes_ = BatchBytes(kept);
        batches_.push_back(std::move(kept));
        keeps_.clear();  // collected again from the new batches
        for (size_t i = 0; i < n; ++i) order_[i] = i;
      }
      // Over the limit: a sorted run to disk (not before it is worth a file,
      // when what fills the limit is another operator's).
      if (reservation_ != nullptr && !reservation_->Set(held_bytes_) && held_bytes_ >= kMinSpillBytes) {
        RETL_RETURN_IF_ERROR(SpillRun());
      }
    }
    if (!runs_.empty()) {
      if (!order_.empty()) RETL_RETURN_IF_ERROR(SpillRun());
      return StartMerge();
    }
    if (limit_.has_value() && static_cast<size_t>(*limit_) < order_.size()) {
      std::partial_sort(order_.begin(), order_.begin() + *limit_, order_.end(), less);
      order_.resize(static_cast<size_t>(*limit_));
    } else {
      std::sort(order_.begin(), order_.end(), less);
    }
    return absl::OkStatus();
  }

  // The buffered rows, sorted, to a temporary file (a top-N's best N only).
  absl::Status SpillRun() {
    auto less = [this](uint64_t x, uint64_t y) { return Less(x, y); };
    if (limit_.has_value() && static_cast<size_t>(*limit_) < order_.size()) {
      std::partial_sort(order_.begin(), order_.begin() + *limit_, order_.end(), less);
      order_.resize(static_cast<size_t>(*limit_));
    } else {
      std::sort(order_.begin(), order_.end(), less);
    }
    RETL_ASSIGN_OR_RETURN(std::unique_ptr<SpillFile> file, SpillFile::Create(memory_, types_));
    keeps_.clear();
    for (size_t from = 0; from < order_.size(); from += kBatchRows) {
      RETL_RETURN_IF_ERROR(file->Write(Gather(from, std::min(kBatchRows, order_.size() - from))));
    }
    RETL_RETURN_IF_ERROR(file->FinishWriting());
    spilled_bytes_ += file->bytes();
    spilled_rows_ += static_cast<int64_t>(order_.size());
    runs_.push_back(std::move(file));
    batches_.clear();
    order_.clear();
    keeps_.clear();
    held_bytes_ = 0;
    reservation_->Set(0);
    return absl::OkStatus();
  }

  // The sorted runs merged; earlier runs first on ties, keeping the sort
  // stable.
  absl::Status StartMerge() {
    std::vector<SpillFile*> files;
    for (const auto& f : runs_) files.push_back(f.get());
    return merge_.Start(std::move(files), types_,
                        [this](const Batch& a, size_t ar, size_t af, const Batch& b, size_t br, size_t bf) {
                          const int c = CompareRows(a, ar, b, br);
                          return c < 0 || (c == 0 && af < bf);
                        });
  }

  absl::StatusOr<bool> NextMerged(Batch* out) {
    size_t rows = kBatchRows;
    if (limit_.has_value()) rows = std::min<uint64_t>(rows, static_cast<uint64_t>(*limit_) - merged_rows_);
    if (rows == 0) return false;
    RETL_ASSIGN_OR_RETURN(bool more, merge_.Next(out, rows));
    merged_rows_ += out->size;
    return more;
  }

  // Rows order_[from, from + n) as one batch.
  Batch Gather(size_t from, size_t n) {
    const Batch& first = batches_[0];
    if (keeps_.empty()) {
      // What the rows' strings point into, collected once per column.
      keeps_.resize(first.columns.size());
      for (size_t c = 0; c < first.columns.size(); ++c) {
        absl::flat_hash_set<const void*> seen;
        for (const Batch& b : batches_) {
          for (const auto& k : b.columns[c].keep) {
            if (seen.insert(k.get()).second) keeps_[c].push_back(k);
          }
        }
      }
    }
    Batch out;
    out.size = n;
    out.columns.resize(first.columns.size());
    for (size_t c = 0; c < first.columns.size(); ++c) {
      Vector& v = out.columns[c];
      v.Reset(first.columns[c].type, 0);
      v.keep = keeps_[c];
      for (size_t k = 0; k < n; ++k) {
        uint64_t ref = order_[from + k];
        v.Append(batches_[ref >> 32].columns[c], ref & 0xffffffffu);
      }
    }
    return out;
  }

  int Compare(uint64_t x, uint64_t y) const {
    return CompareRows(batches_[x >> 32], x & 0xffffffffu, batches_[y >> 32], y & 0xffffffffu);
  }

  int CompareRows(const Batch& bx, size_t ix, const Batch& by, size_t iy) const {
    for (const SortKey& k : keys_) {
      const Vector& a = bx.columns[k.column];
      const Vector& b = by.columns[k.column];
      bool na = !a.valid[ix], nb = !b.valid[iy];
      if (na || nb) {
        if (na && nb) continue;
        return na == k.nulls_first ? -1 : 1;
      }
      int c = 0;
      switch (a.type.storage()) {
        case Storage::kInt64: c = (a.i64[ix] > b.i64[iy]) - (a.i64[ix] < b.i64[iy]); break;
        case Storage::kInt128: c = (a.i128[ix] > b.i128[iy]) - (a.i128[ix] < b.i128[iy]); break;
        case Storage::kDouble: {
          double p = a.f64[ix], q = b.f64[iy];
          if (p < q) c = -1;
          else if (p > q) c = 1;
          else if (p == q) c = 0;
          else c = std::isnan(p) == std::isnan(q) ? 0 : (std::isnan(p) ? 1 : -1);
          break;
        }
        case Storage::kString: {
          int r = a.str[ix].compare(b.str[iy]);
          c = (r > 0) - (r < 0);
          break;
        }
        case Storage::kInterval: {
          Value va = Value::FromVector(a, ix), vb = Value::FromVector(b, iy);
          c = CompareValues(va, vb);
          break;
        }
      }
      if (c != 0) return k.descending ? -c : c;
    }
    return 0;
  }

  OpPtr child_;
  std::vector<SortKey> keys_;
  std::optional<int64_t> limit_;
  std::vector<SqlType> types_;
  std::vector<Batch> batches_;
  std::vector<uint64_t> order_;
  std::vector<std::vector<std::shared_ptr<const void>>> keeps_;
  bool sorted_ = false;
  size_t pos_ = 0;
  // Memory and spilling.
  QueryMemory* memory_ = nullptr;
  std::unique_ptr<MemoryReservation> reservation_;
  int64_t held_bytes_ = 0;
  std::vector<std::unique_ptr<SpillFile>> runs_;
  SpillMerge merge_;  // of runs_
  uint64_t merged_rows_ = 0;
  int64_t spilled_bytes_ = 0;
  int64_t spilled_rows_ = 0;
};

class Limit final : public Operator {
 public:
  Limit(OpPtr child, std::optional<int64_t> limit, int64_t offset)
      : child_(std::move(child)), limit_(limit), offset_(offset) {
    children.push_back(child_.get());
  }
  std::string Describe() const override {
    return StrCat("LIMIT ", limit_.has_value() ? StrCat(*limit_) : "ALL", offset_ ? StrCat(" OFFSET ", offset_) : "");
  }

 protected:
  absl::StatusOr<bool> Next(Batch* out) override {
    while (true) {
      if (limit_.has_value() && emitted_ >= *limit_) return false;
      RETL_ASSIGN_OR_RETURN(bool more, child_->Pull(&in_));
      if (!more) return false;
      size_t begin = 0;
      if (skipped_ < offset_) {
        size_t skip = static_cast<size_t>(std::min<int64_t>(offset_ - skipped_, static_cast<int64_t>(in_.size)));
        skipped_ += static_cast<int64_t>(skip);
        begin = skip;
      }
      size_t end = in_.size;
      if (limit_.has_value()) end = std::min<size_t>(end, begin + static_cast<size_t>(*limit_ - emitted_));
      if (end <= begin) continue;
      if (begin == 0 && end == in_.size) {
        std::swap(*out, in_);
      } else {
        std::vector<uint32_t> sel;
        for (size_t i = begin; i < end; ++i) sel.push_back(static_cast<uint32_t>(i));
        GatherBatch(in_, sel, out);
      }
      emitted_ += static_cast<int64_t>(end - begin);
      return true;
    }
  }

 private:
  OpPtr child_;
  std::optional<int64_t> limit_;
  int64_t offset_;
  int64_t emitted_ = 0;
  int64_t skipped_ = 0;
  Batch in_;
};

// ---------------------------------------------------------------------------
// Binding

bool IsAggregateName(const std::string& n) {
  return n == "count" || n == "sum" || n == "avg" || n == "min" || n == "max" || n == "stddev" ||
         n == "stddev_samp" || n == "approx_count_distinct";
}

bool ContainsAggregate(const AstExpr& e) {
  if (e.kind == AstKind::kFunction && IsAggregateName(e.name)) return true;
  for (const AstPtr& c : e.children) {
    if (ContainsAggregate(*c)) return true;
  }
  return false;
}

// The SQL text of `e` with table qualifiers dropped, for matching GROUP BY
// expressions and aggregates (t.s and s are the same column: one table).
void StripQualifiers(AstExpr* e) {
  if (e->kind == AstKind::kColumn) e->qualifier.clear();
  for (AstPtr& c : e->children) StripQualifiers(c.get());
}
std::string MatchText(const AstExpr& e) {
  AstPtr copy = e.Clone();
  StripQualifiers(copy.get());
  return copy->ToSql();
}

struct Scope {
  const Schema* schema = nullptr;  // table columns (nullptr without FROM)
  std::string table;
  std::string alias;
  // After aggregation: expressions matched by text.
  bool aggregated = false;
  std::vector<std::pair<std::string, int>> group_keys;  // ToSql -> column
  std::vector<SqlType> group_types;
  std::vector<std::pair<std::string, int>> aggregates;
  std::vector<SqlType> agg_types;
  const char* clause = "";  // "WHERE", "GROUP BY", ... for errors
  const std::vector<Value>* params = nullptr;
  bool allow_aggregates = false;
};

class Binder {
 public:
  explicit Binder(const Scope& scope) : s_(scope) {}

  // Binds `e`; errors without a position get e's.
  absl::StatusOr<ExprPtr> Bind(const AstExpr& e) {
    absl::StatusOr<ExprPtr> r = BindNode(e);
    if (!r.ok() && !absl::StartsWith(r.status().message(), "line ")) {
      return absl::Status(r.status().code(), StrCat(e.pos.Location(), ": ", ToStd(r.status().message())));
    }
    return r;
  }

 private:
  absl::StatusOr<ExprPtr> BindNode(const AstExpr& e) {
    if (s_.aggregated) {
      std::string text = MatchText(e);
      for (auto& [t, idx] : s_.group_keys) {
        if (t == text) return MakeColumnRef(idx, s_.group_types[idx], text);
      }
      if (e.kind == AstKind::kFunction && IsAggregateName(e.name)) {
        for (auto& [t, idx] : s_.aggregates) {
          if (t == text) return MakeColumnRef(idx, s_.agg_types[idx - s_.group_types.size()], text);
        }
        return ErrorAtPos(e.pos, "aggregate not found (internal)");
      }
      if (e.kind == AstKind::kColumn) {
        return ErrorAtPos(e.pos, StrCat("column \"", e.name,
                                        "\" must appear in the GROUP BY clause or be used in an aggregate function"));
      }
    }
    switch (e.kind) {
      case AstKind::kLiteral:
        return MakeConstant(e.value, e.unknown_literal);
      case AstKind::kParameter: {
        if (s_.params == nullptr || static_cast<size_t>(e.index) >= s_.params->size()) {
          return ErrorAtPos(e.pos, StrCat("no value given for parameter $", e.index + 1));
        }
        const Value& v = (*s_.params)[e.index];
        return MakeConstant(v, v.type.kind == SqlKind::kString);
      }
      case AstKind::kColumn: {
        if (s_.schema != nullptr && (e.qualifier.empty() || e.qualifier == s_.table || e.qualifier == s_.alias)) {
          int idx = s_.schema->FindField(e.name);
          if (idx >= 0) {
            return MakeColumnRef(idx, SqlType::FromData(s_.schema->fields[idx].type), e.name);
          }
        }
        if (e.qualifier.empty() && (absl::EqualsIgnoreCase(e.name, "current_date") ||
                                    absl::EqualsIgnoreCase(e.name, "current_timestamp"))) {
          return MakeFunction(absl::AsciiStrToLower(e.name), {}, e.pos);
        }
        if (!e.qualifier.empty() && e.qualifier != s_.table && e.qualifier != s_.alias) {
          return ErrorAtPos(e.pos, StrCat("missing FROM-clause entry for table \"", e.qualifier, "\""));
        }
        return ErrorAtPos(e.pos, StrCat("column \"", e.name, "\" does not exist",
                                        s_.schema == nullptr ? " (the query has no FROM clause)" : ""));
      }
      case AstKind::kStar:
        return ErrorAtPos(e.pos, "* is only allowed in the select list and in count(*)");
      case AstKind::kUnary: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        return MakeUnary(e.op, std::move(x), e.pos);
      }
      case AstKind::kBinary: {
        RETL_ASSIGN_OR_RETURN(ExprPtr a, Bind(*e.children[0]));
        RETL_ASSIGN_OR_RETURN(ExprPtr b, Bind(*e.children[1]));
        return MakeBinary(e.op, std::move(a), std::move(b), e.pos);
      }
      case AstKind::kFunction: {
        if (IsAggregateName(e.name)) {
          return ErrorAtPos(e.pos, StrCat("aggregate functions are not allowed in ", s_.clause));
        }
        if (e.distinct) return ErrorAtPos(e.pos, StrCat("DISTINCT is only allowed in aggregate functions"));
        if (e.name == "coalesce" && !e.children.empty()) {
          // CASE WHEN a IS NOT NULL THEN a WHEN b ... ELSE last END: later
          // arguments are evaluated only where the earlier ones are NULL.
          std::vector<ExprPtr> conds, values;
          for (size_t i = 0; i + 1 < e.children.size(); ++i) {
            RETL_ASSIGN_OR_RETURN(ExprPtr test, Bind(*e.children[i]));
            RETL_ASSIGN_OR_RETURN(ExprPtr cond, MakeIsNull(std::move(test), /*negated=*/true));
            RETL_ASSIGN_OR_RETURN(ExprPtr value, Bind(*e.children[i]));
            conds.push_back(std::move(cond));
            values.push_back(std::move(value));
          }
          RETL_ASSIGN_OR_RETURN(ExprPtr last, Bind(*e.children.back()));
          return MakeCase(std::move(conds), std::move(values), std::move(last), e.pos);
        }
        std::vector<ExprPtr> args;
        for (const AstPtr& c : e.children) {
          RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*c));
          args.push_back(std::move(x));
        }
        return MakeFunction(e.name, std::move(args), e.pos);
      }
      case AstKind::kCase: {
        std::vector<ExprPtr> conds, values;
        ExprPtr otherwise;
        size_t i = 0;
        const AstExpr* operand = nullptr;
        if (e.case_has_operand) operand = e.children[i++].get();
        size_t end = e.children.size() - (e.case_has_else ? 1 : 0);
        for (; i + 1 < end + 1 && i < end; i += 2) {
          RETL_ASSIGN_OR_RETURN(ExprPtr w, Bind(*e.children[i]));
          if (operand != nullptr) {
            RETL_ASSIGN_OR_RETURN(ExprPtr op, Bind(*operand));
            RETL_ASSIGN_OR_RETURN(w, MakeBinary("=", std::move(op), std::move(w), e.children[i]->pos));
          }
          RETL_ASSIGN_OR_RETURN(ExprPtr v, Bind(*e.children[i + 1]));
          conds.push_back(std::move(w));
          values.push_back(std::move(v));
        }
        if (e.case_has_else) {
          RETL_ASSIGN_OR_RETURN(otherwise, Bind(*e.children.back()));
        }
        return MakeCase(std::move(conds), std::move(values), std::move(otherwise), e.pos);
      }
      case AstKind::kCast: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        return MakeCast(std::move(x), e.cast_type, e.pos);
      }
      case AstKind::kIn: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        std::vector<ExprPtr> list;
        bool constant = true;
        for (size_t i = 1; i < e.children.size(); ++i) {
          RETL_ASSIGN_OR_RETURN(ExprPtr item, Bind(*e.children[i]));
          constant = constant && item->constant() != nullptr;
          list.push_back(std::move(item));
        }
        if (constant) return MakeIn(std::move(x), std::move(list), e.negated, e.pos);
        // x IN (a, y) with a column or expression among the items:
        // x = a OR x = y, binding x once per item.
        ExprPtr acc;
        for (size_t i = 1; i < e.children.size(); ++i) {
          RETL_ASSIGN_OR_RETURN(ExprPtr lhs, Bind(*e.children[0]));
          RETL_ASSIGN_OR_RETURN(ExprPtr eq, MakeBinary("=", std::move(lhs), std::move(list[i - 1]), e.pos));
          if (!acc) {
            acc = std::move(eq);
          } else {
            RETL_ASSIGN_OR_RETURN(acc, MakeBinary("or", std::move(acc), std::move(eq), e.pos));
          }
        }
        if (e.negated) return MakeUnary("not", std::move(acc), e.pos);
        return acc;
      }
      case AstKind::kBetween: {
        // x BETWEEN lo AND hi == x >= lo AND x <= hi; SYMMETRIC also tries
        // the bounds swapped.
        auto range = [&](size_t lo_i, size_t hi_i) -> absl::StatusOr<ExprPtr> {
          RETL_ASSIGN_OR_RETURN(ExprPtr x1, Bind(*e.children[0]));
          RETL_ASSIGN_OR_RETURN(ExprPtr lo, Bind(*e.children[lo_i]));
          RETL_ASSIGN_OR_RETURN(ExprPtr x2, Bind(*e.children[0]));
          RETL_ASSIGN_OR_RETURN(ExprPtr hi, Bind(*e.children[hi_i]));
          RETL_ASSIGN_OR_RETURN(ExprPtr ge, MakeBinary(">=", std::move(x1), std::move(lo), e.pos));
          RETL_ASSIGN_OR_RETURN(ExprPtr le, MakeBinary("<=", std::move(x2), std::move(hi), e.pos));
          return MakeBinary("and", std::move(ge), std::move(le), e.pos);
        };
        RETL_ASSIGN_OR_RETURN(ExprPtr both, range(1, 2));
        if (e.distinct) {
          RETL_ASSIGN_OR_RETURN(ExprPtr swapped, range(2, 1));
          RETL_ASSIGN_OR_RETURN(both, MakeBinary("or", std::move(both), std::move(swapped), e.pos));
        }
        if (e.negated) return MakeUnary("not", std::move(both), e.pos);
        return both;
      }
      case AstKind::kLike: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        RETL_ASSIGN_OR_RETURN(ExprPtr p, Bind(*e.children[1]));
        ExprPtr esc;
        if (e.children.size() > 2) {
          RETL_ASSIGN_OR_RETURN(esc, Bind(*e.children[2]));
        }
        return MakeLike(std::move(x), std::move(p), std::move(esc), e.op == "ilike", e.negated, e.pos);
      }
      case AstKind::kIsNull: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        return MakeIsNull(std::move(x), e.negated);
      }
      case AstKind::kIsDistinct: {
        RETL_ASSIGN_OR_RETURN(ExprPtr a, Bind(*e.children[0]));
        RETL_ASSIGN_OR_RETURN(ExprPtr b, Bind(*e.children[1]));
        return MakeIsDistinct(std::move(a), std::move(b), e.negated, e.pos);
      }
      case AstKind::kExtract: {
        RETL_ASSIGN_OR_RETURN(ExprPtr x, Bind(*e.children[0]));
        return MakeExtract(e.name, std::move(x), e.pos);
      }
      case AstKind::kInterval:
        return MakeConstant([&] {
          Value v;
          v.type = SqlType::Of(SqlKind::kInterval);
          v.null = false;
          v.iv = e.value.iv;
          return v;
        }());
    }
    return ErrorAtPos(e.pos, "unsupported expression");
  }

  const Scope& s_;
};

void CollectAggregates(const AstExpr& e, std::vector<const AstExpr*>* out) {
  if (e.kind == AstKind::kFunction && IsAggregateName(e.name)) {
    out->push_back(&e);
    return;
  }
  for (const AstPtr& c : e.children) CollectAggregates(*c, out);
}

void SplitConjuncts(const AstExpr* e, std::vector<const AstExpr*>* out) {
  if (e->kind == AstKind::kBinary && e->op == "and") {
    SplitConjuncts(e->children[0].get(), out);
    SplitConjuncts(e->children[1].get(), out);
    return;
  }
  out->push_back(e);
}

absl::StatusOr<int64_t> ConstantInt(const AstExpr& e, const Scope& scope, const char* what) {
  Scope s = scope;
  s.schema = nullptr;
  s.aggregated = false;
  s.clause = what;
  Binder b(s);
  RETL_ASSIGN_OR_RETURN(ExprPtr x, b.Bind(e));
  const Value* v = x->constant();
  if (v == nullptr || !(v->type.IsInteger() || v->type.kind == SqlKind::kNull)) {
    return ErrorAtPos(e.pos, StrCat("argument of ", what, " must be an integer constant"));
  }
  if (v->null) return -1;
  if (v->i < 0) return ErrorAtPos(e.pos, StrCat(what, " must not be negative"));
  return v->i;
}

// Whether chunk statistics prove that no row of the block matches.
bool StatsExclude(const ChunkInfo& chunk, RowIndex rows, const StatPredicate& p, SqlType t) {
  const ChunkStats& st = chunk.stats;
  if (p.op == "isnull") return st.null_count == 0;
  if (st.null_count == rows) return true;  // every value NULL: no comparison holds
  if (!st.min.has_value() || !st.max.has_value()) return false;
  const StatValue& mn = *st.min;
  const StatValue& mx = *st.max;
  auto cmp = [&](const StatValue& s, const Value& v) -> std::optional<int> {
    if (v.null) return std::nullopt;
    switch (s.kind) {
      case StatValue::Kind::kInt:
        if (t.storage() != Storage::kInt64 || v.type.storage() != Storage::kInt64) return std::nullopt;
        return (s.int_value > v.i) - (s.int_value < v.i);
      case StatValue::Kind::kDouble:
        if (v.type.storage() != Storage::kDouble || std::isnan(v.d) || std::isnan(s.double_value)) return std::nullopt;
        return (s.double_value > v.d) - (s.double_value < v.d);
      case StatValue::Kind::kBytes: {
        if (t.storage() != Storage::kString || v.type.storage() != Storage::kString) return std::nullopt;
        int c = s.bytes_value.compare(v.s);
        return (c > 0) - (c < 0);
      }
    }
    return std::nullopt;
  };
  auto outside = [&](const Value& v) {
    std::optional<int> a = cmp(mn, v), b = cmp(mx, v);
    if (!a || !b) return false;
    return *a > 0 || *b < 0;
  };
  if (p.op == "in") {
    for (const Value& v : p.values) {
      if (!v.null && !outside(v)) return false;
    }
    return true;
  }
  const Value& v = p.values[0];
  std::optional<int> vs_min = cmp(mn, v), vs_max = cmp(mx, v);
  if (!vs_min || !vs_max) return false;
  if (p.op == "=") return *vs_min > 0 || *vs_max < 0;
  if (p.op == "<") return *vs_min >= 0;   // min >= v
  if (p.op == "<=") return *vs_min > 0;   // min > v
  if (p.op == ">") return *vs_max <= 0;   // max <= v
  if (p.op == ">=") return *vs_max < 0;   // max < v
  return false;
}

struct Plan {
  OpPtr root;
  std::vector<std::string> names;
  std::vector<SqlType> types;
  size_t visible = 0;  // leading columns returned
  std::vector<std::string> notes;  // EXPLAIN lines above the operators
};

std::string FormatNanos(int64_t ns) {
  if (ns < 1000000) return StrCat(ns / 1000, " us");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

void ExplainTree(const Operator* op, int depth, bool analyze, std::vector<std::string>* lines) {
  std::string line(static_cast<size_t>(depth) * 2, ' ');
  line += depth == 0 ? "" : "-> ";
  line += op->Describe();
  if (analyze) {
    line += StrCat("  (rows=", op->rows(), " time=", FormatNanos(op->nanos()));
    std::string extra = op->RuntimeDetail();
    if (!extra.empty()) line += ", " + extra;
    line += ")";
  }
  lines->push_back(line);
  for (const Operator* c : op->children) ExplainTree(c, depth + 1, analyze, lines);
}

class Planner {
 public:
  Planner(std::shared_ptr<const Snapshot> snapshot, const std::vector<Value>& params, LookupCache* lookups,
          int threads, QueryMemory* memory)
      : snapshot_(std::move(snapshot)), params_(params), lookups_(lookups), threads_(threads), memory_(memory) {}

  absl::StatusOr<Plan> PlanSelect(const SelectStatement& sel) {
    Plan plan;
    Scope scope;
    scope.params = &params_;
    const TableInfo* table = nullptr;
    std::vector<std::pair<std::string, SourcePos>> star_columns;
    if (sel.from.has_value()) {
      absl::StatusOr<const TableInfo*> t = snapshot_->GetTable(sel.from->name);
      if (!t.ok()) {
        std::string names;
        for (const TableInfo& ti : snapshot_->tables()) names += (names.empty() ? "" : ", ") + ti.name;
        return ErrorAtPos(sel.from->pos, StrCat("table \"", sel.from->name, "\" does not exist in version ",
                                                snapshot_->version(),
                                                names.empty() ? " (the dataset has no tables)" : StrCat(" (tables: ", names, ")")));
      }
      table = *t;
      scope.schema = &table->schema;
      scope.table = table->name;
      scope.alias = sel.from->alias;
    }

    // Expand * in the select list.
    struct Item {
      const AstExpr* ast;
      AstPtr owned;
      std::string name;
    };
    std::vector<Item> items;
    for (const SelectItem& it : sel.items) {
      if (it.expr->kind == AstKind::kStar) {
        if (table == nullptr) return ErrorAtPos(it.expr->pos, "SELECT * needs a FROM clause");
        if (!it.expr->qualifier.empty() && it.expr->qualifier != scope.table && it.expr->qualifier != scope.alias) {
          return ErrorAtPos(it.expr->pos, StrCat("missing FROM-clause entry for table \"", it.expr->qualifier, "\""));
        }
        for (const Field& f : table->schema.fields) {
          auto col = std::make_unique<AstExpr>(AstKind::kColumn, it.expr->pos);
          col->name = f.name;
          Item item{col.get(), nullptr, f.name};
          item.owned = std::move(col);
          items.push_back(std::move(item));
        }
        continue;
      }
      std::string name = it.alias;
      if (name.empty()) {
        name = it.expr->kind == AstKind::kColumn ? it.expr->name : it.expr->ToSql();
      }
      items.push_back(Item{it.expr.get(), nullptr, name});
    }

    // WHERE: conjuncts, each bound against the table.
    scope.clause = "WHERE";
    std::vector<const AstExpr*> conjuncts;
    if (sel.where) SplitConjuncts(sel.where.get(), &conjuncts);
    std::vector<SourcePos> where_pos;
    for (const AstExpr* c : conjuncts) where_pos.push_back(c->pos);
    // Bound anew for each thread of a parallel scan: expressions keep state.
    auto bind_where = [&]() -> absl::StatusOr<std::vector<ExprPtr>> {
      std::vector<ExprPtr> bound;
      for (const AstExpr* c : conjuncts) {
        if (ContainsAggregate(*c)) return ErrorAtPos(c->pos, "aggregate functions are not allowed in WHERE");
        Binder b(scope);
        RETL_ASSIGN_OR_RETURN(ExprPtr e, b.Bind(*c));
        if (e->type().kind != SqlKind::kBoolean && e->type().kind != SqlKind::kNull) {
          if (!e->unknown_literal()) {
            return ErrorAtPos(c->pos, StrCat("argument of WHERE must be type BOOLEAN, not type ", e->type().ToString()));
          }
        }
        RETL_ASSIGN_OR_RETURN(e, CoerceTo(std::move(e), SqlType::Of(SqlKind::kBoolean), c->pos));
        bound.push_back(std::move(e));
      }
      return bound;
    };
    // The filter's predicate: every conjunct, but for constant TRUE ones and
    // those partition pruning decided.
    SourcePos pred_pos;
    std::vector<bool> decided;
    auto combine = [&](std::vector<ExprPtr> bound) -> absl::StatusOr<ExprPtr> {
      ExprPtr p;
      for (size_t i = 0; i < bound.size(); ++i) {
        const Value* v = bound[i]->constant();
        if (v != nullptr && !v->null && v->i) continue;
        if (i < decided.size() && decided[i]) continue;
        if (!p) {
          p = std::move(bound[i]);
          pred_pos = where_pos[i];
        } else {
          RETL_ASSIGN_OR_RETURN(p, MakeBinary("and", std::move(p), std::move(bound[i]), where_pos[i]));
        }
      }
      return p;
    };
    RETL_ASSIGN_OR_RETURN(std::vector<ExprPtr> where, bind_where());

    // Source: index probe, or scan of the unpruned partitions' blocks.
    OpPtr source;
    if (table == nullptr) {
      source = std::make_unique<SingleRow>();
      // A constant-false WHERE still filters the single row.
    } else {
      RETL_ASSIGN_OR_RETURN(source, PlanSource(*table, where, sel, &decided));
    }
    bool aggregate = sel.has_group_by;
    for (const Item& it : items) aggregate = aggregate || ContainsAggregate(*it.ast);
    if (sel.having) aggregate = true;
    for (const OrderItem& o : sel.order_by) aggregate = aggregate || ContainsAggregate(*o.expr);

    TableScan* scan = dynamic_cast<TableScan*>(source.get());
    RETL_ASSIGN_OR_RETURN(ExprPtr pred, combine(std::move(where)));
    const bool filtered = pred != nullptr;
    if (pred) source = std::make_unique<Filter>(std::move(source), std::move(pred), pred_pos);
    // Scan and filter on every thread, a block each at a time.
    // (A scan that reads no column and has no filter reads nothing: leave it
    // to count(*) from metadata.)
    // An aggregate takes the scan's workers even on one thread, so that it
    // merges the same per-block partial results whatever the thread count.
    if (scan != nullptr && (threads_ > 1 || aggregate) && scan->block_count() > 1 &&
        (filtered || !scan->RowsWithoutReading().has_value())) {
      std::vector<ParallelScan::Worker> workers;
      const int n = static_cast<int>(std::min<size_t>(threads_, scan->block_count()));
      for (int w = 0; w < n; ++w) {
        std::unique_ptr<TableScan> copy = scan->CloneForWorker();
        ParallelScan::Worker worker{nullptr, copy.get()};
        worker.root = std::move(copy);
        if (filtered) {
          RETL_ASSIGN_OR_RETURN(std::vector<ExprPtr> bound, bind_where());
          RETL_ASSIGN_OR_RETURN(ExprPtr p, combine(std::move(bound)));
          worker.root = std::make_unique<Filter>(std::move(worker.root), std::move(p), pred_pos);
        }
        workers.push_back(std::move(worker));
      }
      source = std::make_unique<ParallelScan>(std::move(workers), scan->block_count());
    }

    // Aggregation (decided above).

    Scope out_scope = scope;  // the scope select/order/having bind in
    if (aggregate) {
      // GROUP BY expressions: ordinals and output names refer to select items.
      std::vector<const AstExpr*> group_asts;
      if (sel.group_by_all) {
        for (const Item& it : items) {
          if (!ContainsAggregate(*it.ast)) group_asts.push_back(it.ast);
        }
      }
      for (const AstPtr& g : sel.group_by) {
        const AstExpr* target = g.get();
        if (g->kind == AstKind::kLiteral && g->value.type.IsInteger() && !g->value.null) {
          int64_t k = g->value.i;
          if (k < 1 || k > static_cast<int64_t>(items.size())) {
            return ErrorAtPos(g->pos, StrCat("GROUP BY position ", k, " is not in select list"));
          }
          target = items[k - 1].ast;
          if (ContainsAggregate(*target)) {
            return ErrorAtPos(g->pos, "aggregate functions are not allowed in GROUP BY");
          }
        } else if (g->kind == AstKind::kColumn && g->qualifier.empty() &&
                   (table == nullptr || table->schema.FindField(g->name) < 0)) {
          for (const Item& it : items) {
            if (it.name == g->name) target = it.ast;
          }
        }
        if (ContainsAggregate(*target)) return ErrorAtPos(g->pos, "aggregate functions are not allowed in GROUP BY");
        group_asts.push_back(target);
      }
      std::vector<ExprPtr> keys;
      std::vector<SourcePos> key_pos;
      std::vector<const AstExpr*> bound_groups, bound_calls;  // bound again per thread
      Scope gscope = scope;
      gscope.clause = "GROUP BY";
      out_scope.aggregated = true;
      for (const AstExpr* g : group_asts) {
        std::string text = MatchText(*g);
        bool dup = false;
        for (auto& [t, idx] : out_scope.group_keys) dup = dup || t == text;
        if (dup) continue;
        Binder b(gscope);
        RETL_ASSIGN_OR_RETURN(ExprPtr e, b.Bind(*g));
        bound_groups.push_back(g);
        out_scope.group_keys.emplace_back(text, static_cast<int>(keys.size()));
        out_scope.group_types.push_back(e->type());
        keys.push_back(std::move(e));
        key_pos.push_back(g->pos);
      }
      // Aggregates used anywhere above.
      std::vector<const AstExpr*> calls;
      for (const Item& it : items) CollectAggregates(*it.ast, &calls);
      if (sel.having) CollectAggregates(*sel.having, &calls);
      for (const OrderItem& o : sel.order_by) CollectAggregates(*o.expr, &calls);
      std::vector<AggSpec> aggs;
      for (const AstExpr* call : calls) {
        std::string text = MatchText(*call);
        bool dup = false;
        for (auto& [t, idx] : out_scope.aggregates) dup = dup || t == text;
        if (dup) continue;
        RETL_ASSIGN_OR_RETURN(AggSpec spec, BindAggregate(*call, scope));
        bound_calls.push_back(call);
        out_scope.aggregates.emplace_back(text, static_cast<int>(keys.size() + aggs.size()));
        out_scope.agg_types.push_back(spec.type);
        aggs.push_back(std::move(spec));
      }
      auto* parallel = dynamic_cast<ParallelScan*>(source.get());
      if (parallel != nullptr) {
        std::vector<HashAggregate::Worker> workers;
        for (ParallelScan::Worker& w : parallel->TakeWorkers()) {
          std::vector<ExprPtr> wkeys;
          std::vector<AggSpec> waggs;
          for (const AstExpr* g : bound_groups) {
            Binder b(gscope);
            RETL_ASSIGN_OR_RETURN(ExprPtr e, b.Bind(*g));
            wkeys.push_back(std::move(e));
          }
          for (const AstExpr* call : bound_calls) {
            RETL_ASSIGN_OR_RETURN(AggSpec spec, BindAggregate(*call, scope));
            waggs.push_back(std::move(spec));
          }
          workers.push_back(HashAggregate::Worker{
              std::make_unique<HashAggregate>(std::move(w.root), std::move(wkeys), std::move(waggs), key_pos),
              w.scan});
        }
        const size_t blocks = parallel->blocks();
        auto final_agg = std::make_unique<HashAggregate>(nullptr, std::move(keys), std::move(aggs), std::move(key_pos));
        final_agg->SetWorkers(std::move(workers), blocks);
        final_agg->SetMemory(memory_);
        source = std::move(final_agg);
      } else {
        auto agg = std::make_unique<HashAggregate>(std::move(source), std::move(keys), std::move(aggs), std::move(key_pos));
        agg->SetMemory(memory_);
        source = std::move(agg);
      }
      if (sel.having) {
        out_scope.clause = "HAVING";
        Binder b(out_scope);
        RETL_ASSIGN_OR_RETURN(ExprPtr h, b.Bind(*sel.having));
        RETL_ASSIGN_OR_RETURN(h, CoerceTo(std::move(h), SqlType::Of(SqlKind::kBoolean), sel.having->pos));
        source = std::make_unique<Filter>(std::move(source), std::move(h), sel.having->pos);
      }
    }

    // Projection: the select list, then hidden ORDER BY expressions.
    out_scope.clause = "SELECT";
    std::vector<ExprPtr> exprs;
    std::vector<SourcePos> positions;
    std::vector<std::string> texts;
    for (const Item& it : items) {
      Binder b(out_scope);
      RETL_ASSIGN_OR_RETURN(ExprPtr e, b.Bind(*it.ast));
      if (e->unknown_literal()) {
        RETL_ASSIGN_OR_RETURN(e, CoerceTo(std::move(e), SqlType::Of(SqlKind::kString), it.ast->pos));
      }
      plan.names.push_back(it.name);
      plan.types.push_back(e->type());
      texts.push_back(it.ast->ToSql());
      exprs.push_back(std::move(e));
      positions.push_back(it.ast->pos);
    }
    plan.visible = exprs.size();
    std::vector<SortKey> sort_keys;
    out_scope.clause = "ORDER BY";
    for (const OrderItem& o : sel.order_by) {
      int column = -1;
      const AstExpr& e = *o.expr;
      if (e.kind == AstKind::kLiteral && e.value.type.IsInteger() && !e.value.null) {
        if (e.value.i < 1 || e.value.i > static_cast<int64_t>(plan.visible)) {
          return ErrorAtPos(e.pos, StrCat("ORDER BY position ", e.value.i, " is not in select list"));
        }
        column = static_cast<int>(e.value.i - 1);
      } else if (e.kind == AstKind::kColumn && e.qualifier.empty()) {
        for (size_t i = 0; i < plan.visible && column < 0; ++i) {
          if (plan.names[i] == e.name) column = static_cast<int>(i);
        }
      }
      if (column < 0) {
        std::string text = e.ToSql();
        for (size_t i = 0; i < texts.size() && column < 0; ++i) {
          if (texts[i] == text) column = static_cast<int>(i);
        }
      }
      if (column < 0) {
        if (sel.distinct) {
          return ErrorAtPos(e.pos, "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
        }
        Binder b(out_scope);
        RETL_ASSIGN_OR_RETURN(ExprPtr x, b.Bind(e));
        column = static_cast<int>(exprs.size());
        texts.push_back(e.ToSql());
        plan.types.push_back(x->type());
        plan.names.push_back(e.ToSql());
        exprs.push_back(std::move(x));
        positions.push_back(e.pos);
      }
      bool nulls_first = o.nulls_first.has_value() ? *o.nulls_first : o.descending;
      sort_keys.push_back(SortKey{column, o.descending, nulls_first});
    }
    source = std::make_unique<Project>(std::move(source), std::move(exprs), std::move(positions));
    if (sel.distinct) {
      std::vector<ExprPtr> keys;
      for (size_t i = 0; i < plan.visible; ++i) keys.push_back(MakeColumnRef(static_cast<int>(i), plan.types[i], plan.names[i]));
      auto distinct = std::make_unique<HashAggregate>(std::move(source), std::move(keys), std::vector<AggSpec>{});
      distinct->SetMemory(memory_);
      source = std::move(distinct);
    }
    std::optional<int64_t> limit;
    int64_t offset = 0;
    if (sel.limit) {
      RETL_ASSIGN_OR_RETURN(int64_t l, ConstantInt(*sel.limit, scope, "LIMIT"));
      if (l >= 0) limit = l;
    }
    if (sel.offset) {
      RETL_ASSIGN_OR_RETURN(int64_t o, ConstantInt(*sel.offset, scope, "OFFSET"));
      offset = std::max<int64_t>(o, 0);
    }
    if (!sort_keys.empty()) {
      std::optional<int64_t> topn;
      if (limit.has_value()) {
        int64_t n;
        if (!__builtin_add_overflow(*limit, offset, &n)) topn = n;  // else: a full sort
      }
      auto sort = std::make_unique<Sort>(std::move(source), std::move(sort_keys), topn);
      sort->SetMemory(memory_);
      source = std::move(sort);
    }
    if (limit.has_value() || offset > 0) source = std::make_unique<Limit>(std::move(source), limit, offset);
    plan.root = std::move(source);
    return plan;
  }

 private:
  absl::StatusOr<AggSpec> BindAggregate(const AstExpr& call, const Scope& scope) {
    AggSpec spec;
    spec.text = call.ToSql();
    spec.pos = call.pos;
    spec.distinct = call.distinct;
    const std::string& n = call.name;
    if (n == "count" && call.children.size() == 1 && call.children[0]->kind == AstKind::kStar) {
      if (call.distinct) return ErrorAtPos(call.pos, "count(DISTINCT *) is not supported");
      spec.kind = AggKind::kCountStar;
      spec.type = SqlType::Of(SqlKind::kBigInt);
      return spec;
    }
    if (call.children.size() != 1) {
      return ErrorAtPos(call.pos, StrCat("function ", n, "() takes one argument, got ", call.children.size()));
    }
    if (ContainsAggregate(*call.children[0])) {
      return ErrorAtPos(call.pos, "aggregate function calls cannot be nested");
    }
    Scope s = scope;
    s.clause = "aggregate arguments";
    Binder b(s);
    RETL_ASSIGN_OR_RETURN(spec.arg, b.Bind(*call.children[0]));
    if (spec.arg->unknown_literal()) {
      RETL_ASSIGN_OR_RETURN(spec.arg, CoerceTo(std::move(spec.arg), SqlType::Of(SqlKind::kString), call.pos));
    }
    SqlType t = spec.arg->type();
    auto no_such = [&]() {
      return ErrorAtPos(call.pos, StrCat("function \"", n, "\" does not exist for argument type ", t.ToString()));
    };
    if (n == "count") {
      spec.kind = AggKind::kCount;
      spec.type = SqlType::Of(SqlKind::kBigInt);
    } else if (n == "sum") {
      spec.kind = AggKind::kSum;
      if (t.IsInteger() || t.kind == SqlKind::kNull) {
        spec.type = SqlType::Of(SqlKind::kBigInt);
        if (t.kind == SqlKind::kNull) { RETL_ASSIGN_OR_RETURN(spec.arg, CoerceTo(std::move(spec.arg), spec.type, call.pos)); }
      } else if (t.kind == SqlKind::kDecimal) spec.type = SqlType::Decimal(38, t.scale);
      else if (t.IsFloating()) spec.type = SqlType::Of(SqlKind::kDouble);
      else return no_such();
    } else if (n == "avg" || n == "stddev" || n == "stddev_samp") {
      spec.kind = n == "avg" ? AggKind::kAvg : AggKind::kStddev;
      if (t.kind == SqlKind::kNull) {
        RETL_ASSIGN_OR_RETURN(spec.arg, CoerceTo(std::move(spec.arg), SqlType::Of(SqlKind::kDouble), call.pos));
      } else if (!t.IsNumeric()) {
        return no_such();
      }
      spec.type = SqlType::Of(SqlKind::kDouble);
    } else if (n == "min" || n == "max") {
      spec.kind = n == "min" ? AggKind::kMin : AggKind::kMax;
      if (t.kind == SqlKind::kNull) {
        RETL_ASSIGN_OR_RETURN(spec.arg, CoerceTo(std::move(spec.arg), SqlType::Of(SqlKind::kString), call.pos));
      }
      spec.type = spec.arg->type();
    } else {
      spec.kind = AggKind::kApproxDistinct;
      spec.type = SqlType::Of(SqlKind::kBigInt);
    }
    return spec;
  }

  // Chooses between an index probe and a scan, pruning partitions and blocks.
  // `decided` (if given) receives, per conjunct of `where`, whether partition
  // pruning found it TRUE for every row the scan reads.
  absl::StatusOr<OpPtr> PlanSource(const TableInfo& table, std::vector<ExprPtr>& where,
                                   const SelectStatement& sel, std::vector<bool>* decided = nullptr) {
    const Schema& schema = table.schema;
    std::vector<SqlType> types;
    for (const Field& f : schema.fields) types.push_back(SqlType::FromData(f.type));
    // Equality and IN facts: column -> candidate values.
    std::map<int, std::vector<Value>> eq;
    std::vector<StatPredicate> stats;
    std::vector<Expr*> leaves;  // BETWEEN binds to an AND: look inside
    for (const ExprPtr& w : where) CollectConjuncts(w.get(), &leaves);
    for (Expr* w : leaves) {
      int col;
      std::string op;
      Value v;
      std::vector<Value> values;
      if (MatchColumnComparison(w, &col, &op, &v)) {
        if (v.type == types[col]) {
          if (op == "=" && !eq.count(col)) eq[col] = {v};
          stats.push_back(StatPredicate{col, op, {v}});
        }
      } else if (std::string prefix; MatchColumnLikePrefix(w, &col, &prefix)) {
        // Values starting with the prefix lie in [prefix, the prefix with its
        // last byte below 0xFF incremented and what follows dropped).
        if (types[col].storage() == Storage::kString && !prefix.empty()) {
          stats.push_back(StatPredicate{col, ">=", {Value::String(prefix)}});
          std::string upper = prefix;
          while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
          if (!upper.empty()) {
            upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
            stats.push_back(StatPredicate{col, "<", {Value::String(upper)}});
          }
        }
      } else if (MatchColumnIn(w, &col, &values)) {
        bool same = true;
        for (const Value& x : values) same = same && x.type == types[col];
        if (same) {
          if (!eq.count(col)) eq[col] = values;
          stats.push_back(StatPredicate{col, "in", values});
        }
      } else if (MatchColumnIsNull(w, &col)) {
        stats.push_back(StatPredicate{col, "isnull", {}});
      }
    }
    // Index probe: every column of the primary key or of an index pinned.
    auto probe_keys = [&](const std::vector<int>& cols) -> std::optional<std::vector<std::vector<Value>>> {
      std::vector<std::vector<Value>> keys{{}};
      for (int c : cols) {
        auto it = eq.find(c);
        if (it == eq.end()) return std::nullopt;
        std::vector<std::vector<Value>> next;
        for (const auto& k : keys) {
          for (const Value& v : it->second) {
            if (v.null) continue;
            auto nk = k;
            nk.push_back(v);
            next.push_back(std::move(nk));
          }
        }
        keys = std::move(next);
        if (keys.size() > 100000) return std::nullopt;
      }
      return keys;
    };
    std::optional<std::vector<std::vector<Value>>> keys = probe_keys(schema.primary_key);
    std::string index_name;
    if (!keys.has_value()) {
      for (const IndexDef& idx : schema.indexes) {
        keys = probe_keys(idx.columns);
        if (keys.has_value()) {
          index_name = idx.name;
          break;
        }
      }
    }
    if (keys.has_value()) {
      // Each key once (IN (1, 1) returns the row once).
      std::vector<std::vector<Value>> unique;
      absl::flat_hash_set<std::string> seen;
      for (auto& k : *keys) {
        std::string enc;
        for (const Value& v : k) {
          Vector one;
          one.Reset(v.type, 1);
          StringHeap heap;
          v.ToVector(&one, 0, &heap);
          EncodeKey(one, 0, &enc);
        }
        if (seen.insert(enc).second) unique.push_back(std::move(k));
      }
      // Stored keys keep the sign of zero (FORMAT.md §4.3) while SQL has
      // -0 = 0: a zero in a floating-point key column is probed both ways.
      std::vector<std::vector<Value>> probes;
      for (auto& k : unique) {
        std::vector<std::vector<Value>> variants{k};
        for (size_t c = 0; c < k.size(); ++c) {
          if (k[c].type.storage() != Storage::kDouble || k[c].d != 0) continue;
          size_t m = variants.size();
          for (size_t j = 0; j < m; ++j) {
            std::vector<Value> flipped = variants[j];
            flipped[c].d = -flipped[c].d;
            variants.push_back(std::move(flipped));
          }
        }
        for (auto& v : variants) probes.push_back(std::move(v));
      }
      keys = std::move(probes);
      std::string detail = StrCat(" (", keys->size(), keys->size() == 1 ? " key" : " keys", ")");
      return OpPtr(std::make_unique<IndexProbe>(snapshot_, table.name, index_name, std::move(*keys), types, detail,
                                                lookups_));
    }

    // Partition pruning: conjuncts over the partition column alone, evaluated
    // on each partition's value.
    std::vector<Expr*> part_preds;
    std::vector<size_t> part_pred_index;  // in `where`
    if (schema.partition_column.has_value()) {
      for (size_t k = 0; k < where.size(); ++k) {
        std::vector<int> cols;
        CollectColumns(where[k].get(), &cols);
        bool only = !cols.empty();
        for (int c : cols) only = only && c == *schema.partition_column;
        if (only) {
          part_preds.push_back(where[k].get());
          part_pred_index.push_back(k);
        }
      }
    }
    // Whether each partition predicate was TRUE on every partition kept: then
    // it holds for every row read, and the filter need not test it.
    std::vector<bool> always_true(part_preds.size(), true);
    size_t parts_total = table.partitions.size(), parts_kept = 0;
    size_t blocks_total = 0, blocks_kept = 0;
    std::vector<BlockRef> blocks;
    for (const PartitionInfo& p : table.partitions) {
      bool keep = true;
      if (!part_preds.empty()) {
        const int pc = *schema.partition_column;
        Batch one;
        one.size = 1;
        one.columns.resize(schema.fields.size());
        Column c(schema.fields[pc].type);
        if (p.value.has_value()) {
          RETL_RETURN_IF_ERROR(AppendParsedValue(*p.value, &c));
        } else {
          c.AppendNull();
        }
        auto col = std::make_shared<Column>(std::move(c));
        ColumnToVector(col, 0, 1, types[pc], &one.columns[pc]);
        std::vector<bool> is_true(part_preds.size(), false);
        for (size_t k = 0; k < part_preds.size(); ++k) {
          const Vector* r = nullptr;
          absl::Status s = part_preds[k]->Eval(one, &r);
          if (!s.ok()) break;  // decided at run time instead
          if (!r->valid[0] || !r->i64[0]) {
            keep = false;
            break;
          }
          is_true[k] = true;
        }
        if (keep) {
          for (size_t k = 0; k < part_preds.size(); ++k) always_true[k] = always_true[k] && is_true[k];
        }
      }
      for (const SegmentInfo& si : p.segments) {
        std::shared_ptr<const Segment> seg = snapshot_->segment(si);
        if (seg == nullptr) return absl::InternalError(StrCat("segment '", si.path, "' is not open"));
        for (size_t b = 0; b < seg->blocks().size(); ++b) {
          ++blocks_total;
          if (!keep) continue;
          const BlockInfo& bi = seg->blocks()[b];
          bool skip = false;
          for (const StatPredicate& sp : stats) {
            if (StatsExclude(bi.columns[sp.column], bi.row_count, sp, types[sp.column])) {
              skip = true;
              break;
            }
          }
          if (skip) continue;
          ++blocks_kept;
          blocks.push_back(BlockRef{seg, b, &p});
        }
      }
      parts_kept += keep;
    }
    std::vector<bool> pruned(where.size(), false);
    for (size_t k = 0; k < part_preds.size(); ++k) pruned[part_pred_index[k]] = always_true[k];
    if (decided != nullptr) *decided = pruned;

    // Scan: the columns the query reads, but for those only pruning needed.
    std::vector<int> needed;
    CollectNeeded(sel, schema, &needed);
    for (size_t k = 0; k < where.size(); ++k) {
      if (!pruned[k]) CollectColumns(where[k].get(), &needed);
    }
    std::sort(needed.begin(), needed.end());
    needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
    std::string detail;
    if (table.partitioned()) {
      detail += StrCat(" partitions ", parts_kept, "/", parts_total);
      if (parts_kept < parts_total) {
        std::vector<std::string> kept;
        for (const BlockRef& b : blocks) {
          std::string n = b.partition->DisplayName(true);
          if (kept.empty() || kept.back() != n) kept.push_back(n);
        }
        kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
        if (!kept.empty() && kept.size() <= 8) detail += " (" + absl::StrJoin(kept, ", ") + ")";
      }
    }
    detail += StrCat(" blocks ", blocks_kept, "/", blocks_total);
    std::vector<std::string> names;
    for (int c : needed) names.push_back(schema.fields[c].name);
    detail += " columns " + (names.empty() ? std::string("none") : absl::StrJoin(names, ", "));
    return OpPtr(std::make_unique<TableScan>(table.name, std::move(blocks), std::move(needed), types,
                                             schema.fields.size(), detail));
  }

  // Columns the select list, GROUP BY, HAVING and ORDER BY mention (by name;
  // over-approximate: any matching identifier counts).
  static void CollectNeeded(const SelectStatement& sel, const Schema& schema, std::vector<int>* out) {
    std::function<void(const AstExpr&)> walk = [&](const AstExpr& e) {
      if (e.kind == AstKind::kColumn) {
        int i = schema.FindField(e.name);
        if (i >= 0) out->push_back(i);
      }  // count(*)'s star reads nothing
      for (const AstPtr& c : e.children) walk(*c);
    };
    for (const SelectItem& it : sel.items) {
      if (it.expr->kind == AstKind::kStar) {
        for (size_t i = 0; i < schema.fields.size(); ++i) out->push_back(static_cast<int>(i));
      } else {
        walk(*it.expr);
      }
    }
    for (const AstPtr& g : sel.group_by) walk(*g);
    if (sel.having) walk(*sel.having);
    for (const OrderItem& o : sel.order_by) walk(*o.expr);  // GROUP BY ALL uses select items
  }

  std::shared_ptr<const Snapshot> snapshot_;
  const std::vector<Value>& params_;
  LookupCache* lookups_;
  int threads_;
  QueryMemory* memory_;
};

QueryResult TextResult(std::vector<std::string> names, const std::vector<std::vector<std::optional<std::string>>>& rows,
                       StatementKind kind, std::vector<SqlType> types = {}) {
  QueryResult r;
  r.kind = kind;
  r.names = std::move(names);
  if (types.empty()) types.assign(r.names.size(), SqlType::Of(SqlKind::kString));
  r.types = std::move(types);
  for (size_t start = 0; start < rows.size() || (start == 0 && rows.empty()); start += kBatchRows) {
    if (rows.empty()) break;
    Batch b;
    size_t n = std::min(kBatchRows, rows.size() - start);
    b.size = n;
    b.columns.resize(r.names.size());
    for (size_t c = 0; c < r.names.size(); ++c) {
      Vector& v = b.columns[c];
      v.Reset(r.types[c], n);
      StringHeap* heap = v.NewHeap();
      for (size_t i = 0; i < n; ++i) {
        const auto& cell = rows[start + i][c];
        if (!cell.has_value()) {
          v.valid[i] = 0;
          continue;
        }
        if (r.types[c].kind == SqlKind::kString) v.str[i] = heap->Add(*cell);
        else if (r.types[c].storage() == Storage::kInt64) {
          int64_t x = 0;
          (void)absl::SimpleAtoi(*cell, &x);
          v.i64[i] = x;
        }
      }
    }
    r.batches.push_back(std::move(b));
  }
  r.row_count = rows.size();
  return r;
}

// The value `param` takes as key column type `t` when the general plan would
// compare them exactly like stored keys; nullopt when it would not (then the
// general planner decides, and reports any error).
std::optional<Value> KeyParameter(const Value& param, SqlType t) {
  if (param.null) return std::nullopt;
  if (param.type == t) return param;
  if (param.type.kind == SqlKind::kString) {
    // A text parameter is an unknown-typed literal: cast to the column type.
    absl::StatusOr<ExprPtr> e = MakeCast(MakeConstant(param, true), t, SourcePos{});
    if (!e.ok() || (*e)->constant() == nullptr) return std::nullopt;
    return *(*e)->constant();
  }
  if (param.type.IsInteger() && t.IsInteger()) {
    int64_t lo, hi;
    IntegerRange(t.kind, &lo, &hi);
    if (param.i < lo || param.i > hi) return std::nullopt;
    Value v = param;
    v.type = t;
    return v;
  }
  return std::nullopt;
}

// SELECT columns|* FROM t WHERE k1 = $1 AND ... over exactly the columns of
// the primary key or of a secondary index, with parameters or literals:
// answered by the index without planning (what a prepared point lookup
// runs). nullopt when the statement has another shape.
absl::StatusOr<std::optional<QueryResult>> DirectLookup(const SelectStatement& sel,
                                                        const std::shared_ptr<const Snapshot>& snap,
                                                        const std::vector<Value>& params, LookupCache* cache) {
  if (!sel.from.has_value() || sel.from->as_of_timestamp || !sel.where || sel.distinct ||
      sel.has_group_by || sel.having || !sel.order_by.empty() || sel.limit || sel.offset) {
    return std::nullopt;
  }
  absl::StatusOr<const TableInfo*> t = snap->GetTable(sel.from->name);
  if (!t.ok()) return std::nullopt;
  const Schema& schema = (*t)->schema;
  auto own_column = [&](const AstExpr& e) {
    if (e.kind != AstKind::kColumn) return -1;
    if (!e.qualifier.empty() && e.qualifier != (*t)->name && e.qualifier != sel.from->alias) return -1;
    return schema.FindField(e.name);
  };
  // WHERE: column = parameter, ANDed.
  std::vector<const AstExpr*> conjuncts;
  SplitConjuncts(sel.where.get(), &conjuncts);
  std::vector<std::pair<int, const Value*>> pinned;
  for (const AstExpr* c : conjuncts) {
    if (c->kind != AstKind::kBinary || c->op != "=") return std::nullopt;
    const AstExpr* a = c->children[0].get();
    const AstExpr* b = c->children[1].get();
    if (a->kind == AstKind::kParameter || a->kind == AstKind::kLiteral) std::swap(a, b);
    int col = own_column(*a);
    const Value* value = nullptr;
    if (b->kind == AstKind::kParameter && static_cast<size_t>(b->index) < params.size()) {
      value = &params[b->index];
    } else if (b->kind == AstKind::kLiteral) {
      value = &b->value;  // a quoted literal is text, cast like a text parameter
    }
    if (col < 0 || value == nullptr) return std::nullopt;
    for (auto& [pc, pv] : pinned) {
      if (pc == col) return std::nullopt;
    }
    pinned.emplace_back(col, value);
  }
  // Which index: the primary key, else a secondary index, on exactly these columns.
  auto matches = [&](const std::vector<int>& cols) {
    if (cols.size() != pinned.size()) return false;
    for (int c : cols) {
      bool found = false;
      for (auto& [pc, pv] : pinned) found = found || pc == c;
      if (!found) return false;
    }
    return true;
  };
  std::string index;
  const std::vector<int>* key_columns = nullptr;
  if (matches(schema.primary_key)) {
    key_columns = &schema.primary_key;
  } else {
    for (const IndexDef& idx : schema.indexes) {
      if (matches(idx.columns)) {
        key_columns = &idx.columns;
        index = idx.name;
        break;
      }
    }
  }
  if (key_columns == nullptr) return std::nullopt;
  // Output columns.
  std::vector<int> out_cols;
  std::vector<std::string> names;
  for (const SelectItem& item : sel.items) {
    if (item.expr->kind == AstKind::kStar && item.expr->qualifier.empty()) {
      for (size_t i = 0; i < schema.fields.size(); ++i) {
        out_cols.push_back(static_cast<int>(i));
        names.push_back(schema.fields[i].name);
      }
      continue;
    }
    int col = own_column(*item.expr);
    if (col < 0) return std::nullopt;
    out_cols.push_back(col);
    names.push_back(item.alias.empty() ? item.expr->name : item.alias);
  }
  // Key values, in the index's column order.
  std::vector<Value> key;
  for (int c : *key_columns) {
    const Value* p = nullptr;
    for (auto& [pc, pv] : pinned) {
      if (pc == c) p = pv;
    }
    if (p->null) {
      key.clear();  // key = NULL matches nothing
      break;
    }
    if (SqlType::FromData(schema.fields[c].type).IsFloating()) return std::nullopt;  // -0 = 0: the planner probes both
    std::optional<Value> v = KeyParameter(*p, SqlType::FromData(schema.fields[c].type));
    if (!v.has_value()) return std::nullopt;
    key.push_back(std::move(*v));
  }
  QueryResult result;
  result.kind = StatementKind::kSelect;
  result.names = std::move(names);
  for (int c : out_cols) result.types.push_back(SqlType::FromData(schema.fields[c].type));
  if (key.empty()) return result;
  RETL_ASSIGN_OR_RETURN(std::shared_ptr<const Lookup> lookup, cache->Get(snap, (*t)->name, index));
  std::vector<KeyValue> kv;
  for (const Value& v : key) kv.push_back(KeyValueOf(v));
  std::vector<RowView> rows;
  RETL_RETURN_IF_ERROR(lookup->Find(kv, &rows));
  if (rows.empty()) return result;
  Batch b;
  b.size = rows.size();
  b.columns.resize(out_cols.size());
  for (size_t k = 0; k < out_cols.size(); ++k) {
    const int col = out_cols[k];
    RowViewsToVector(rows, col, schema.fields[col].type.physical(), result.types[k], snap, &b.columns[k]);
  }
  result.row_count = rows.size();
  result.batches.push_back(std::move(b));
  return result;
}

}  // namespace

QueryEngine::QueryEngine(std::shared_ptr<const Dataset> dataset, EngineOptions options)
    : dataset_(std::move(dataset)), options_(options), lookups_(std::make_unique<LookupCache>()) {}

QueryEngine::~QueryEngine() = default;

absl::StatusOr<std::shared_ptr<const Snapshot>> QueryEngine::DefaultSnapshot() const {
  if (options_.version.has_value()) return dataset_->AtVersion(*options_.version);
  if (options_.as_of_micros.has_value()) return dataset_->AsOf(*options_.as_of_micros);
  return dataset_->Latest();
}

absl::StatusOr<QueryResult> QueryEngine::Execute(const Statement& st, const std::vector<Value>& params) {
  return Execute(st, params, nullptr);
}

namespace {

constexpr const char* kSettings[] = {"memory_limit", "temp_directory", "threads"};

bool IsSetting(const std::string& name) {
  return std::find(std::begin(kSettings), std::end(kSettings), name) != std::end(kSettings);
}

std::string UnknownSetting(const std::string& name) {
  return StrCat("unknown setting \"", name, "\" (settings: ", absl::StrJoin(kSettings, ", "), ")");
}

}  // namespace

absl::Status QueryEngine::ApplySetting(const std::string& name, const Value& value) {
  const bool reset = value.null;  // DEFAULT, or RESET
  if (name == "memory_limit") {
    if (reset) {
      options_.memory_limit = 0;
      return absl::OkStatus();
    }
    absl::StatusOr<int64_t> bytes = ParseByteSize(value.s);
    if (!bytes.ok()) return absl::InvalidArgumentError(StrCat("memory_limit: ", ToStd(bytes.status().message())));
    if (*bytes < (int64_t{1} << 20)) {
      return absl::InvalidArgumentError(
          StrCat("memory_limit: ", FormatBytes(*bytes), " is too small; give at least 1MB (or DEFAULT)"));
    }
    options_.memory_limit = *bytes;
    return absl::OkStatus();
  }
  if (name == "temp_directory") {
    if (reset) {
      options_.temp_directory.clear();
      return absl::OkStatus();
    }
    struct stat st;
    if (value.s.empty() || stat(value.s.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(StrCat("temp_directory: \"", value.s, "\" is not a directory"));
    }
    if (access(value.s.c_str(), W_OK | X_OK) != 0) {
      return absl::InvalidArgumentError(StrCat("temp_directory: \"", value.s, "\" is not writable"));
    }
    options_.temp_directory = value.s;
    return absl::OkStatus();
  }
  if (name == "threads") {
    if (reset) {
      options_.threads = 0;
      return absl::OkStatus();
    }
    int n = 0;
    if (!absl::SimpleAtoi(value.s, &n) || n < 1 || n > 1024) {
      return absl::InvalidArgumentError(StrCat("threads: expected a number from 1 to 1024 (or DEFAULT), got \"",
                                               value.s, "\""));
    }
    options_.threads = n;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(UnknownSetting(name));
}

std::string QueryEngine::SettingText(const std::string& name) const {
  if (name == "memory_limit") {
    return options_.memory_limit > 0 ? FormatBytes(options_.memory_limit)
                                     : StrCat(FormatBytes(DefaultMemoryLimit()), " (default: 80% of RAM)");
  }
  if (name == "temp_directory") {
    return options_.temp_directory.empty() ? StrCat(DefaultTempDirectory(), " (default)") : options_.temp_directory;
  }
  if (name == "threads") {
    return options_.threads > 0 ? StrCat(options_.threads)
                                : StrCat(std::max(1, static_cast<int>(std::thread::hardware_concurrency())),
                                         " (default: one per core)");
  }
  return "";
}

absl::StatusOr<QueryResult> QueryEngine::Execute(const Statement& st, const std::vector<Value>& params,
                                                 const ResultSink* sink) {
  if (static_cast<int>(params.size()) < st.parameter_count) {
    return ErrorAtPos(st.pos, StrCat("the statement has ", st.parameter_count, " parameter(s); ", params.size(),
                                     " value(s) given"));
  }
  switch (st.kind) {
    case StatementKind::kShowTables: {
      RETL_ASSIGN_OR_RETURN(auto snap, DefaultSnapshot());
      std::vector<std::vector<std::optional<std::string>>> rows;
      for (const TableInfo& t : snap->tables()) rows.push_back({t.name});
      return TextResult({"name"}, rows, st.kind);
    }
    case StatementKind::kShowVersions: {
      RETL_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, dataset_->Versions());
      std::vector<std::vector<std::optional<std::string>>> rows;
      auto optional = [](const std::string& text) {
        return text.empty() ? std::nullopt : std::optional<std::string>(text);
      };
      for (const VersionInfo& v : versions) {
        // Lineage: one "path size checksum" entry per input file, '; '-separated.
        std::string inputs;
        for (const InputFileInfo& in : v.inputs) {
          if (!inputs.empty()) inputs += "; ";
          absl::StrAppend(&inputs, ToAbsl(in.path), " ", in.size, " ",
                          absl::StrFormat("%016x", in.checksum));
        }
        rows.push_back({StrCat(v.version), FormatTimestamp(v.commit_time_micros), v.operation, optional(v.message),
                        v.summary, optional(v.source), optional(inputs)});
      }
      return TextResult({"version", "committed_at", "operation", "message", "summary", "source", "inputs"}, rows,
                        st.kind,
                        {SqlType::Of(SqlKind::kBigInt), SqlType::Of(SqlKind::kString), SqlType::Of(SqlKind::kString),
                         SqlType::Of(SqlKind::kString), SqlType::Of(SqlKind::kString), SqlType::Of(SqlKind::kString),
                         SqlType::Of(SqlKind::kString)});
    }
    case StatementKind::kDescribe: {
      RETL_ASSIGN_OR_RETURN(auto snap, DefaultSnapshot());
      absl::StatusOr<const TableInfo*> t = snap->GetTable(st.table);
      if (!t.ok()) return ErrorAtPos(st.table_pos, StrCat("table \"", st.table, "\" does not exist"));
      const Schema& s = (*t)->schema;
      std::vector<std::vector<std::optional<std::string>>> rows;
      for (size_t i = 0; i < s.fields.size(); ++i) {
        const Field& f = s.fields[i];
        std::optional<std::string> key;
        if (std::find(s.primary_key.begin(), s.primary_key.end(), static_cast<int>(i)) != s.primary_key.end()) key = "PRI";
        else if (s.partition_column == static_cast<int>(i)) key = "PART";
        rows.push_back({f.name, f.type.ToString(), f.nullable ? "YES" : "NO", key});
      }
      return TextResult({"column_name", "column_type", "null", "key"}, rows, st.kind);
    }
    case StatementKind::kCreateTable:
      return ErrorAtPos(st.pos,
                        "CREATE TABLE is how retl-build declares schemas (retl-build import --schema FILE); "
                        "queries cannot change a dataset");
    case StatementKind::kSet:
      RETL_RETURN_IF_ERROR(WithPos(ApplySetting(st.set_name, st.set_value), st.pos));
      return TextResult({"setting", "value"}, {{st.set_name, SettingText(st.set_name)}}, st.kind);
    case StatementKind::kShowSetting: {
      if (!IsSetting(st.set_name)) return ErrorAtPos(st.pos, UnknownSetting(st.set_name));
      return TextResult({"setting", "value"}, {{st.set_name, SettingText(st.set_name)}}, st.kind);
    }
    case StatementKind::kSelect:
    case StatementKind::kExplain:
      break;
  }
  const SelectStatement& sel = *st.select;
  std::shared_ptr<const Snapshot> snap;
  if (sel.from.has_value() && sel.from->as_of_version.has_value()) {
    absl::StatusOr<std::shared_ptr<const Snapshot>> s = dataset_->AtVersion(*sel.from->as_of_version);
    if (!s.ok()) return ErrorAtPos(sel.from->pos, ToStd(s.status().message()));
    snap = *s;
  } else if (sel.from.has_value() && sel.from->as_of_timestamp) {
    Scope scope;
    scope.params = &params;
    scope.clause = "AS OF";
    Binder b(scope);
    RETL_ASSIGN_OR_RETURN(ExprPtr e, b.Bind(*sel.from->as_of_timestamp));
    RETL_ASSIGN_OR_RETURN(e, CoerceTo(std::move(e), SqlType::Of(SqlKind::kTimestamp), sel.from->as_of_timestamp->pos));
    const Value* v = e->constant();
    if (v == nullptr || v->null) return ErrorAtPos(sel.from->pos, "AS OF TIMESTAMP needs a constant timestamp");
    absl::StatusOr<std::shared_ptr<const Snapshot>> s = dataset_->AsOf(v->i);
    if (!s.ok()) return ErrorAtPos(sel.from->pos, ToStd(s.status().message()));
    snap = *s;
  } else {
    RETL_ASSIGN_OR_RETURN(snap, DefaultSnapshot());
  }
  if (st.kind == StatementKind::kSelect) {
    RETL_ASSIGN_OR_RETURN(std::optional<QueryResult> direct, DirectLookup(sel, snap, params, lookups_.get()));
    if (direct.has_value()) {
      if (sink != nullptr) {
        if (sink->start) RETL_RETURN_IF_ERROR(sink->start(direct->names, direct->types));
        for (const Batch& batch : direct->batches) RETL_RETURN_IF_ERROR(sink->rows(batch));
        direct->batches.clear();
      }
      return std::move(*direct);
    }
  }
  const int threads = options_.threads > 0 ? options_.threads
                                           : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // Declared before the plan, whose operators hold reservations of it.
  QueryMemory memory(options_.memory_limit > 0 ? options_.memory_limit : DefaultMemoryLimit(),
                     options_.temp_directory.empty() ? DefaultTempDirectory() : options_.temp_directory);
  Planner planner(snap, params, lookups_.get(), threads, &memory);
  RETL_ASSIGN_OR_RETURN(Plan plan, planner.PlanSelect(sel));
  QueryResult result;
  result.kind = st.kind;
  if (st.kind == StatementKind::kExplain && !st.analyze) {
    std::vector<std::string> lines;
    ExplainTree(plan.root.get(), 0, false, &lines);
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (auto& l : lines) rows.push_back({l});
    return TextResult({"plan"}, rows, st.kind);
  }
  result.names.assign(plan.names.begin(), plan.names.begin() + plan.visible);
  result.types.assign(plan.types.begin(), plan.types.begin() + plan.visible);
  const bool streaming = sink != nullptr && st.kind == StatementKind::kSelect;
  if (streaming && sink->start) RETL_RETURN_IF_ERROR(sink->start(result.names, result.types));
  auto t0 = std::chrono::steady_clock::now();
  Batch b;
  while (true) {
    RETL_ASSIGN_OR_RETURN(bool more, plan.root->Pull(&b));
    if (!more) break;
    b.columns.resize(plan.visible);
    result.row_count += b.size;
    if (streaming) {
      RETL_RETURN_IF_ERROR(sink->rows(b));
    } else if (st.kind != StatementKind::kExplain) {
      result.batches.push_back(std::move(b));
    }
    b = Batch();
  }
  if (st.kind == StatementKind::kExplain) {
    std::vector<std::string> lines;
    ExplainTree(plan.root.get(), 0, true, &lines);
    std::string mem = StrCat("memory: peak ", FormatBytes(memory.peak()), " of memory_limit ",
                             FormatBytes(memory.limit()));
    if (memory.spill_files() > 0) {
      absl::StrAppend(&mem, "; spilled ", FormatBytes(memory.spilled_bytes()), " to ", memory.spill_files(),
                      " temporary files in ", memory.temp_directory(), " (removed)");
    }
    lines.push_back(std::move(mem));
    lines.push_back(StrCat("total: ", result.row_count, " rows in ",
                           FormatNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - t0).count()),
                           " on version ", snap->version()));
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (auto& l : lines) rows.push_back({l});
    return TextResult({"plan"}, rows, st.kind);
  }
  return result;
}

absl::StatusOr<QueryResult> QueryEngine::ExecuteSql(std::string_view sql, const std::vector<Value>& params) {
  RETL_ASSIGN_OR_RETURN(std::vector<Statement> statements, ParseStatements(sql));
  if (statements.empty()) return absl::InvalidArgumentError("line 1, column 1: expected a statement, found end of input");
  QueryResult last;
  for (const Statement& s : statements) {
    RETL_ASSIGN_OR_RETURN(last, Execute(s, params));
  }
  return last;
}

absl::StatusOr<PreparedStatement> PreparedStatement::Prepare(QueryEngine* engine, std::string_view sql) {
  RETL_ASSIGN_OR_RETURN(Statement st, ParseStatement(sql));
  return PreparedStatement(engine, std::make_shared<Statement>(std::move(st)));
}

absl::StatusOr<QueryResult> PreparedStatement::Execute(const std::vector<Value>& params) const {
  return engine_->Execute(*statement_, params);
}

}  // namespace retl
