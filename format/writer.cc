#include "retl/writer.h"
#include "format/strings.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "format/file_util.h"
#include "format/index.h"
#include "format/lookup_internal.h"
#include "format/manifest.h"
#include "format/parallel.h"
#include "format/row_key.h"
#include "format/segment.h"
#include "format/sorted_runs.h"
#include "format/text.h"
#include "retl/dataset.h"

namespace retl {

namespace {

// Removes what a writer that died before committing left behind (FORMAT.md
// §8.3): files named for versions above `current`, and temporary files.
absl::Status RecoverAfterCrash(const std::string& dir, int64_t current) {
  RETL_RETURN_IF_ERROR(RemoveFile(JoinPath(dir, StrCat(kCurrentFile, kTempSuffix))));
  for (std::string_view sub : {kManifestDir, kDataDir}) {
    std::string subdir = JoinPath(dir, sub);
    RETL_ASSIGN_OR_RETURN(auto names, ListDirectory(subdir));
    bool removed = false;
    for (const std::string& name : names) {
      if (name.starts_with(kSpillFilePrefix)) {  // a run file not yet unlinked (no O_TMPFILE)
        RETL_RETURN_IF_ERROR(RemoveFile(JoinPath(subdir, name)));
        removed = true;
        continue;
      }
      int64_t v = VersionOfFileName(name);
      if (v < 0) continue;  // not ours: leave it alone
      if (v > current || std::string_view(name).ends_with(kTempSuffix)) {
        RETL_RETURN_IF_ERROR(RemoveFile(JoinPath(subdir, name)));
        removed = true;
      }
    }
    if (removed) RETL_RETURN_IF_ERROR(SyncDirectory(subdir));
  }
  return absl::OkStatus();
}

std::string Plural(int64_t n, std::string_view word) {
  return StrCat(n, " ", word, n == 1 ? "" : "s");
}

// Values every reader can rely on (FORMAT.md §4.1): valid UTF-8 strings,
// DECIMALs within their precision, dates and timestamps in years 0001..9999.
constexpr int64_t kMinDate = -719162, kMaxDate = 2932896;
constexpr int64_t kMinTimestamp = -62135596800000000, kMaxTimestamp = 253402300799999999;

absl::Status CheckValues(const Field& f, const Column& col, bool utf8_checked,
                         const std::function<std::string(RowIndex)>& where) {
  auto bad = [&](RowIndex r, std::string_view what) {
    return absl::InvalidArgumentError(StrCat(where(r), ": column '", f.name, "': ", what));
  };
  switch (f.type.id) {
    case TypeId::kString:
      if (utf8_checked) break;
      for (RowIndex r = 0; r < col.size(); ++r) {
        if (col.IsValid(r) && !IsValidUtf8(col.GetBytes(r))) return bad(r, "not valid UTF-8");
      }
      break;
    case TypeId::kDecimal: {
      int128 bound = 1;
      for (int i = 0; i < f.type.precision; ++i) bound *= 10;
      for (RowIndex r = 0; r < col.size(); ++r) {
        if (!col.IsValid(r)) continue;
        int128 v = col.GetInt128(r);
        if (v >= bound || v <= -bound) {
          return bad(r, StrCat("value has more than ", f.type.precision, " digits"));
        }
      }
      break;
    }
    case TypeId::kDate:
    case TypeId::kTimestamp: {
      bool date = f.type.id == TypeId::kDate;
      int64_t lo = date ? kMinDate : kMinTimestamp, hi = date ? kMaxDate : kMaxTimestamp;
      for (RowIndex r = 0; r < col.size(); ++r) {
        if (col.IsValid(r) && (col.GetInt(r) < lo || col.GetInt(r) > hi)) {
          return bad(r, "value outside years 0001..9999");
        }
      }
      break;
    }
    default: break;
  }
  return absl::OkStatus();
}

// One bit pattern for NaN, so equal-looking values store, sort and partition alike.
bool HasNonCanonicalNaN(const Column& col) {
  if (col.type().physical() == PhysicalType::kDouble) {
    const double canonical = std::numeric_limits<double>::quiet_NaN();
    for (RowIndex r = 0; r < col.size(); ++r) {
      double v = col.values<double>()[r];
      if (v != v && std::memcmp(&v, &canonical, sizeof v) != 0) return true;
    }
  } else if (col.type().physical() == PhysicalType::kFloat) {
    const float canonical = std::numeric_limits<float>::quiet_NaN();
    for (RowIndex r = 0; r < col.size(); ++r) {
      float v = col.values<float>()[r];
      if (v != v && std::memcmp(&v, &canonical, sizeof v) != 0) return true;
    }
  }
  return false;
}

void CanonicalizeNaNs(Column* col) {
  if (col->type().physical() == PhysicalType::kDouble) {
    double* v = reinterpret_cast<double*>(col->mutable_fixed_data());
    for (RowIndex r = 0; r < col->size(); ++r) {
      if (v[r] != v[r]) v[r] = std::numeric_limits<double>::quiet_NaN();
    }
  } else if (col->type().physical() == PhysicalType::kFloat) {
    float* v = reinterpret_cast<float*>(col->mutable_fixed_data());
    for (RowIndex r = 0; r < col->size(); ++r) {
      if (v[r] != v[r]) v[r] = std::numeric_limits<float>::quiet_NaN();
    }
  }
}

bool PartitionLess(const PartitionInfo& a, const PartitionInfo& b) { return a.value < b.value; }

// The segments of `existing` opened for probing keys (FORMAT.md §12.7);
// empty if they hold no rows.
absl::StatusOr<std::vector<KeyProbeSegment>> OpenProbeSegments(const std::string& dir, const TableInfo& table,
                                                               const std::vector<const PartitionInfo*>& existing) {
  std::vector<KeyProbeSegment> segments;
  RowIndex existing_rows = 0;
  for (const PartitionInfo* p : existing) existing_rows += p->row_count();
  if (existing_rows == 0) return segments;
  for (const PartitionInfo* p : existing) {
    for (const SegmentInfo& info : p->segments) {
      KeyProbeSegment k;
      k.partition = p;
      RETL_ASSIGN_OR_RETURN(k.segment, Segment::Open(JoinPath(dir, info.path)));
      if (info.index.has_value()) {
        RETL_ASSIGN_OR_RETURN(auto file, MappedFile::Open(JoinPath(dir, info.index->path)));
        RETL_ASSIGN_OR_RETURN(k.index, IndexFile::Open(std::move(file), info.index->checksum, table.schema,
                                                       info.row_count, info.checksum));
      }
      segments.push_back(std::move(k));
    }
  }
  return segments;
}

// Fails naming the first row of `columns` whose key is in one of `segments`
// (a filter rules out most segments at once).
absl::Status ProbeKeys(const TableInfo& table, const std::vector<KeyProbeSegment>& segments,
                       const std::vector<Column>& columns, const std::function<std::string(RowIndex)>& where) {
  if (segments.empty() || columns.empty() || columns[0].size() == 0) return absl::OkStatus();
  const Schema& schema = table.schema;
  RETL_ASSIGN_OR_RETURN(auto found, FindExistingKey(schema, columns, segments));
  if (!found.has_value()) return absl::OkStatus();
  const RowIndex r = found->first;
  const PartitionInfo& old_partition = *segments[found->second].partition;
  std::string new_partition;
  if (table.partitioned()) {
    const Column& pc = columns[*schema.partition_column];
    new_partition = StrCat(" (for partition '", pc.IsValid(r) ? ValueText(pc, r) : "(NULL)", "')");
  }
  return absl::InvalidArgumentError(StrCat(
      "duplicate primary key ", KeyText(schema, columns, schema.primary_key, r), ": the row at ", where(r),
      new_partition, " already exists in partition '", old_partition.DisplayName(table.partitioned()),
      "' of table '", table.name, "'"));
}

// Bytes the normalized keys take in memory.
int64_t KeyBytes(const NormalizedKeys& keys) {
  return static_cast<int64_t>(keys.arena.size() + (keys.offsets.size() + keys.hashes.size()) * sizeof(uint64_t) +
                              keys.indexed.size() / 8);
}

// The stored bytes of row `r` of a partition column, which tell partition
// values apart without formatting them.
std::string_view RawValue(const Column& pc, RowIndex r) {
  if (pc.type().physical() == PhysicalType::kBytes) return pc.GetBytes(r);
  const int width = pc.type().FixedWidth();
  return std::string_view(reinterpret_cast<const char*>(pc.fixed_data()) + r * width, width);
}

// Records a written segment in `info` (`r` as its writer returned it), and
// writes its index file from `parts`, naming the segment's checksum
// (FORMAT.md §12).
absl::Status CompleteSegment(const std::string& dir, const Schema& schema, const SegmentWriteResult& r,
                             std::vector<IndexPart> parts, SegmentInfo* info) {
  info->size = r.size;
  info->checksum = r.checksum;
  info->row_count = r.row_count;
  RETL_ASSIGN_OR_RETURN(std::string index_bytes, AssembleIndexFile(schema, r.row_count, std::move(parts), r.checksum));
  RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(dir, info->index->path), index_bytes));
  info->index->size = index_bytes.size();
  info->index->checksum = Checksum64(index_bytes);
  return absl::OkStatus();
}

// A build whose rows take more than the memory limit: each batch is sorted by
// key and written to a spill file as a run; the runs are then merged in key
// order into segments, block by block. The files are those WriteRows gives
// for all rows at once, unless the limit makes a block end short or a
// segment end early (see Merge).
class SpilledBuild {
 public:
  SpilledBuild(const Schema& schema, const WriterOptions& options, std::unique_ptr<SortedRunFile> file)
      : schema_(schema), options_(options), file_(std::move(file)) {}

  // Adds a validated batch whose first row is row `first_row` of the input.
  absl::Status Add(TableData batch, RowIndex first_row) {
    const RowIndex n = batch.num_rows();
    if (n == 0) return absl::OkStatus();
    for (Column& c : batch.columns) CanonicalizeNaNs(&c);
    if (page_rows_ == 0) {
      // Pages of a 256th of the memory limit, 64 KiB to 1 MiB: the merge
      // holds one per run.
      const int64_t row_bytes = std::max<int64_t>(1, ColumnBytes(batch.columns) / n);
      page_bytes_ = std::clamp<int64_t>(MemoryLimitBytes(options_) / 256, 64 << 10, 1 << 20);
      page_rows_ = std::clamp<int64_t>(page_bytes_ / row_bytes, 16, 65536);
    }
    NotePartitions(batch.columns);
    const std::vector<RowIndex> order = SortByKey(batch.columns, schema_.primary_key, options_.threads);
    std::vector<uint64_t> origins(n);
    for (RowIndex r = 0; r < n; ++r) {
      origins[r] = batch.origin ? batch.origin(r) : static_cast<uint64_t>(first_row + r);
    }
    RETL_ASSIGN_OR_RETURN(SortedRun run, file_->WriteRun(batch.columns, order, origins, page_rows_));
    runs_.push_back(std::move(run));
    return absl::OkStatus();
  }

  // Every page of every run, in turn (for checks against existing keys).
  absl::Status ForEachPage(const std::function<absl::Status(const RunPage&)>& fn) const {
    for (const SortedRun& run : runs_) {
      for (const RunPageInfo& info : run.pages) {
        RETL_ASSIGN_OR_RETURN(RunPage page, file_->ReadPage(info));
        RETL_RETURN_IF_ERROR(fn(page));
      }
    }
    return absl::OkStatus();
  }

  // Calls `emit` with each row of runs [begin, end) in key order (equal keys
  // in run order), with its page and the page's bytes per row.
  using Emit = std::function<absl::Status(const RunPage& page, RowIndex row, int64_t row_bytes)>;
  absl::Status MergeRuns(size_t begin, size_t end, const Emit& emit) const;
  // While there are more runs than the merge may hold a page of each of,
  // merges groups of them into longer runs.
  absl::Status ReduceRuns();

  // Merges the runs into one segment per partition; `new_segment` gives each
  // partition's SegmentInfo (paths set), in partition order.
  absl::StatusOr<std::vector<PartitionInfo>> Merge(
      const std::string& dir,
      const std::function<absl::StatusOr<SegmentInfo>()>& new_segment,
      const std::function<std::string(uint64_t)>& describe);

 private:
  // Gives each partition value in `columns` an id.
  void NotePartitions(const std::vector<Column>& columns) {
    if (!schema_.partition_column.has_value()) {
      if (partitions_.empty()) partitions_.emplace(std::nullopt, 0);
      return;
    }
    const Column& pc = columns[*schema_.partition_column];
    for (RowIndex r = 0; r < pc.size(); ++r) {
      if (!pc.IsValid(r)) {
        if (null_id_ < 0) null_id_ = partitions_.emplace(std::nullopt, static_cast<int>(partitions_.size())).first->second;
        continue;
      }
      const std::string_view raw = RawValue(pc, r);
      if (by_raw_.contains(ToAbsl(raw))) continue;
      const int id = partitions_.emplace(ValueText(pc, r), static_cast<int>(partitions_.size())).first->second;
      by_raw_.emplace(std::string(raw), id);
    }
  }
  int PartitionOf(const std::vector<Column>& columns, RowIndex r) const {
    if (!schema_.partition_column.has_value()) return 0;
    const Column& pc = columns[*schema_.partition_column];
    return pc.IsValid(r) ? by_raw_.find(ToAbsl(RawValue(pc, r)))->second : null_id_;
  }

  const Schema& schema_;
  const WriterOptions& options_;
  std::unique_ptr<SortedRunFile> file_;
  std::vector<SortedRun> runs_;
  RowIndex page_rows_ = 0;
  int64_t page_bytes_ = 0;
  std::map<std::optional<std::string>, int> partitions_;  // by name: the order segments are named in
  absl::flat_hash_map<std::string, int> by_raw_;
  int null_id_ = -1;
};

absl::Status SpilledBuild::MergeRuns(size_t begin, size_t end, const Emit& emit) const {
  // A cursor per run, on its current page.
  struct Cursor {
    size_t run;
    size_t next_page = 0;
    RunPage page;
    RowIndex pos = 0;
    int64_t row_bytes = 0;  // the page's average
  };
  std::vector<Cursor> cursors(end - begin);
  auto load = [&](Cursor& c) -> absl::Status {
    RETL_ASSIGN_OR_RETURN(c.page, file_->ReadPage(runs_[c.run].pages[c.next_page++]));
    const RowIndex n = static_cast<RowIndex>(c.page.origins.size());
    c.pos = 0;
    c.row_bytes = n == 0 ? 0 : ColumnBytes(c.page.columns) / n + 1;
    return absl::OkStatus();
  };
  const std::vector<int>& pk = schema_.primary_key;
  const bool int_key = pk.size() == 1 && ComparesAsInt64(schema_.fields[pk[0]].type.physical());
  auto compare = [&](const Cursor& a, const Cursor& b) {
    if (int_key) {
      const int64_t x = a.page.columns[pk[0]].GetInt(a.pos), y = b.page.columns[pk[0]].GetInt(b.pos);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return CompareKeys(a.page.columns, a.pos, b.page.columns, b.pos, pk);
  };
  // A min-heap of cursors; equal keys come out in run (input) order.
  auto after = [&](size_t a, size_t b) {
    const int c = compare(cursors[a], cursors[b]);
    return c != 0 ? c > 0 : cursors[a].run > cursors[b].run;
  };
  std::vector<size_t> heap;
  for (size_t k = 0; k < cursors.size(); ++k) {
    cursors[k].run = begin + k;
    if (runs_[begin + k].pages.empty()) continue;
    RETL_RETURN_IF_ERROR(load(cursors[k]));
    heap.push_back(k);
  }
  std::make_heap(heap.begin(), heap.end(), after);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    Cursor& cur = cursors[heap.back()];
    RETL_RETURN_IF_ERROR(emit(cur.page, cur.pos, cur.row_bytes));
    if (++cur.pos == static_cast<RowIndex>(cur.page.origins.size())) {
      if (cur.next_page == runs_[cur.run].pages.size()) {
        heap.pop_back();
        cur.page = RunPage();
        continue;
      }
      RETL_RETURN_IF_ERROR(load(cur));
    }
    std::push_heap(heap.begin(), heap.end(), after);
  }
  return absl::OkStatus();
}

absl::Status SpilledBuild::ReduceRuns() {
  // A run's page takes about three times its bytes while merged (the read,
  // the columns, the gather); all of them together stay within a quarter of
  // the memory limit.
  const size_t fan_in =
      std::max<size_t>(2, static_cast<size_t>(MemoryLimitBytes(options_) / 4 / (3 * std::max<int64_t>(1, page_bytes_))));
  while (runs_.size() > fan_in) {
    std::vector<SortedRun> merged;
    for (size_t begin = 0; begin < runs_.size(); begin += fan_in) {
      const size_t end = std::min(runs_.size(), begin + fan_in);
      if (end - begin == 1) {
        merged.push_back(std::move(runs_[begin]));
        continue;
      }
      SortedRun run;
      std::vector<Column> columns;
      std::vector<uint64_t> origins;
      auto write_page = [&]() -> absl::Status {
        if (origins.empty()) return absl::OkStatus();
        std::vector<RowIndex> order(origins.size());
        std::iota(order.begin(), order.end(), 0);
        RETL_ASSIGN_OR_RETURN(SortedRun page, file_->WriteRun(columns, order, origins, page_rows_));
        run.pages.insert(run.pages.end(), page.pages.begin(), page.pages.end());
        run.rows += page.rows;
        columns.clear();
        origins.clear();
        return absl::OkStatus();
      };
      RETL_RETURN_IF_ERROR(MergeRuns(begin, end, [&](const RunPage& page, RowIndex r, int64_t) -> absl::Status {
        if (columns.empty()) {
          for (const Field& f : schema_.fields) columns.emplace_back(f.type);
        }
        for (size_t f = 0; f < columns.size(); ++f) columns[f].AppendFrom(page.columns[f], r);
        origins.push_back(page.origins[r]);
        return static_cast<RowIndex>(origins.size()) == page_rows_ ? write_page() : absl::OkStatus();
      }));
      RETL_RETURN_IF_ERROR(write_page());
      merged.push_back(std::move(run));
    }
    runs_ = std::move(merged);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PartitionInfo>> SpilledBuild::Merge(
    const std::string& dir, const std::function<absl::StatusOr<SegmentInfo>()>& new_segment,
    const std::function<std::string(uint64_t)>& describe) {
  SegmentWriteOptions options;
  options.block_rows = options_.block_rows;
  options.compression = options_.zstd ? Compression::kZstd : Compression::kNone;
  if (options.block_rows < 1 || options.block_rows > kMaxBlockRows) {
    return absl::InvalidArgumentError(StrCat("block rows must be 1..", kMaxBlockRows, ", got ", options.block_rows));
  }
  RETL_RETURN_IF_ERROR(ReduceRuns());
  const size_t width = schema_.fields.size();
  const size_t index_count = schema_.indexes.size() + 1;
  auto key_columns = [&](size_t i) -> const std::vector<int>& {
    return i == 0 ? schema_.primary_key : schema_.indexes[i - 1].columns;
  };
  auto fresh_block = [&] {
    std::vector<Column> block;
    for (const Field& f : schema_.fields) block.emplace_back(f.type);
    return block;
  };

  // One output per partition, in name order.
  struct Out {
    std::optional<std::string> value;
    SegmentInfo info;
    std::unique_ptr<SegmentFileWriter> file;
    std::vector<Column> block;
    std::vector<uint64_t> block_bytes;  // per column: string bytes in `block`
    int64_t held = 0;                   // about the bytes `block` takes
    std::vector<NormalizedKeys> keys;   // per index (0: the primary)
    int64_t key_bytes = 0;              // what `keys` take
    std::vector<SegmentInfo> done;      // segments finished early
  };
  std::vector<Out> outs(partitions_.size());
  std::vector<size_t> out_of_id(partitions_.size());
  size_t k = 0;
  for (const auto& [value, id] : partitions_) {
    Out& out = outs[k];
    out.value = value;
    RETL_ASSIGN_OR_RETURN(out.info, new_segment());
    RETL_ASSIGN_OR_RETURN(out.file, SegmentFileWriter::Create(JoinPath(dir, out.info.path), schema_));
    out.block = fresh_block();
    out.block_bytes.assign(width, 0);
    out.keys.resize(index_count);
    out_of_id[id] = k++;
  }

  // The partitions' unfinished blocks, and the full ones waiting to be
  // encoded, each stay within a quarter of the memory limit: past it, the
  // largest unfinished block is cut short (then the blocks differ from an
  // in-memory build's; the rows do not).
  const int64_t held_limit = std::max<int64_t>(1, MemoryLimitBytes(options_) / 4);
  int64_t held = 0, pending_bytes = 0, key_bytes = 0;
  // Full blocks are encoded (and their keys normalized) a few at a time on
  // all cores, then appended to their files in the order they filled.
  struct Pending {
    Out* out;
    std::vector<Column> columns;
    absl::StatusOr<EncodedBlock> block;
    std::vector<NormalizedKeys> keys;
  };
  std::vector<Pending> pending;
  const size_t batch = 2 * static_cast<size_t>(ThreadCount(options_.threads));
  auto run_pending = [&]() -> absl::Status {
    ParallelFor(pending.size(), options_.threads, [&](size_t t) {
      Pending& p = pending[t];
      const RowIndex n = p.columns[0].size();
      std::vector<RowIndex> all(n);
      std::iota(all.begin(), all.end(), 0);
      p.block = EncodeSegmentBlock(p.columns, 0, n, options);
      p.keys.resize(index_count);
      for (size_t i = 0; i < index_count; ++i) NormalizeKeys(p.columns, key_columns(i), all, &p.keys[i]);
      p.columns.clear();
    });
    for (Pending& p : pending) {
      RETL_RETURN_IF_ERROR(p.block.status());
      RETL_RETURN_IF_ERROR(p.out->file->Append(*p.block));
      for (size_t i = 0; i < index_count; ++i) {
        p.out->keys[i].Append(p.keys[i]);
        const int64_t bytes = KeyBytes(p.keys[i]);
        p.out->key_bytes += bytes;
        key_bytes += bytes;
      }
    }
    pending.clear();
    pending_bytes = 0;
    return absl::OkStatus();
  };
  auto flush = [&](Out& out) -> absl::Status {
    if (out.block[0].size() == 0) return absl::OkStatus();
    pending.push_back(Pending{&out, std::exchange(out.block, fresh_block()), EncodedBlock{}, {}});
    out.block_bytes.assign(width, 0);
    held -= out.held;
    pending_bytes += out.held;
    out.held = 0;
    return pending.size() >= batch || pending_bytes > held_limit ? run_pending() : absl::OkStatus();
  };

  // Completes the segments of `list` (their blocks written): builds their
  // indexes, all on all cores, and writes the index files.
  auto finish = [&](const std::vector<Out*>& list) -> absl::Status {
    for (Out* out : list) RETL_RETURN_IF_ERROR(flush(*out));
    RETL_RETURN_IF_ERROR(run_pending());
    std::vector<SegmentWriteResult> results(list.size());
    for (size_t o = 0; o < list.size(); ++o) {
      RETL_ASSIGN_OR_RETURN(results[o], list[o]->file->Finish());
      list[o]->file.reset();
    }
    std::vector<std::vector<IndexPart>> parts(list.size());
    for (std::vector<IndexPart>& p : parts) p.resize(index_count);
    std::vector<absl::Status> status(list.size() * index_count);
    ParallelFor(status.size(), options_.threads, [&](size_t t) {
      const size_t o = t / index_count, i = t % index_count;
      auto part = BuildIndexPart(schema_, list[o]->keys[i], static_cast<int>(i) - 1, /*primary_checked_unique=*/true);
      list[o]->keys[i] = NormalizedKeys();
      if (part.ok()) parts[o][i] = *std::move(part); else status[t] = part.status();
    });
    for (const absl::Status& st : status) RETL_RETURN_IF_ERROR(st);
    for (size_t o = 0; o < list.size(); ++o) {
      Out& out = *list[o];
      key_bytes -= out.key_bytes;
      out.key_bytes = 0;
      RETL_RETURN_IF_ERROR(CompleteSegment(dir, schema_, results[o], std::move(parts[o]), &out.info));
      out.done.push_back(std::move(out.info));
      out.info = SegmentInfo();
    }
    return absl::OkStatus();
  };
  // Index keys are held until a segment is complete; when those of all
  // partitions pass a quarter of the memory limit, the segment holding the
  // most is completed early and its partition goes on in a new segment.
  const int64_t key_limit = held_limit;

  std::string key, prev_key;
  uint64_t prev_origin = 0;
  bool have_prev = false;
  const std::vector<int>& pk = schema_.primary_key;
  RETL_RETURN_IF_ERROR(MergeRuns(0, runs_.size(), [&](const RunPage& page, RowIndex r, int64_t row_bytes) -> absl::Status {
    const std::vector<Column>& cols = page.columns;
    // Uniqueness: equal keys are next to each other in merged order.
    key.clear();
    AppendKeyBytes(cols, pk, r, &key);
    const uint64_t origin = page.origins[r];
    if (have_prev && key == prev_key) {
      return absl::InvalidArgumentError(StrCat("duplicate primary key ", KeyText(schema_, cols, pk, r), " at ",
                                               describe(std::min(prev_origin, origin)), " and ",
                                               describe(std::max(prev_origin, origin))));
    }
    std::swap(key, prev_key);
    prev_origin = origin;
    have_prev = true;

    Out& out = outs[out_of_id[PartitionOf(cols, r)]];
    if (out.file == nullptr) {
      RETL_ASSIGN_OR_RETURN(out.info, new_segment());
      RETL_ASSIGN_OR_RETURN(out.file, SegmentFileWriter::Create(JoinPath(dir, out.info.path), schema_));
    }
    // A block ends before its largest string column passes kMaxBlockBytes.
    for (size_t f = 0; f < width; ++f) {
      if (cols[f].type().physical() != PhysicalType::kBytes) continue;
      const uint64_t len = cols[f].offsets()[r + 1] - cols[f].offsets()[r];
      if (out.block[0].size() > 0 && out.block_bytes[f] + len > kMaxBlockBytes) {
        RETL_RETURN_IF_ERROR(flush(out));
        break;
      }
    }
    for (size_t f = 0; f < width; ++f) {
      out.block[f].AppendFrom(cols[f], r);
      if (cols[f].type().physical() == PhysicalType::kBytes) {
        out.block_bytes[f] += cols[f].offsets()[r + 1] - cols[f].offsets()[r];
      }
    }
    out.held += row_bytes;
    held += row_bytes;
    if (out.block[0].size() == options.block_rows) {
      RETL_RETURN_IF_ERROR(flush(out));
    } else if (held > held_limit) {
      Out* largest = &out;
      for (Out& o : outs) {
        if (o.held > largest->held) largest = &o;
      }
      RETL_RETURN_IF_ERROR(flush(*largest));
    }
    if (key_bytes > key_limit) {
      Out* largest = &out;
      for (Out& o : outs) {
        if (o.key_bytes > largest->key_bytes) largest = &o;
      }
      if (largest->key_bytes > 0) RETL_RETURN_IF_ERROR(finish({largest}));
    }
    return absl::OkStatus();
  }));

  std::vector<Out*> all;
  for (Out& out : outs) {
    if (out.file != nullptr) all.push_back(&out);
  }
  RETL_RETURN_IF_ERROR(finish(all));
  std::vector<PartitionInfo> partitions;
  for (Out& out : outs) {
    PartitionInfo p;
    p.value = out.value;
    p.segments = std::move(out.done);
    partitions.push_back(std::move(p));
  }
  return partitions;
}

}  // namespace

// ---- DatasetWriter -------------------------------------------------------------

absl::Status DatasetWriter::Init(const std::string& dir) {
  if (PathExists(JoinPath(dir, kCurrentFile))) {
    return absl::AlreadyExistsError(StrCat("'", dir, "' is already a rETL dataset"));
  }
  if (PathExists(dir)) {
    RETL_ASSIGN_OR_RETURN(auto names, ListDirectory(dir));
    if (!names.empty()) {
      return absl::FailedPreconditionError(StrCat(
          "'", dir, "' exists and is not empty; give a new or empty directory for the dataset"));
    }
  }
  RETL_RETURN_IF_ERROR(CreateDirectory(dir));
  RETL_RETURN_IF_ERROR(CreateDirectory(JoinPath(dir, kManifestDir)));
  RETL_RETURN_IF_ERROR(CreateDirectory(JoinPath(dir, kDataDir)));
  RETL_RETURN_IF_ERROR(SyncDirectory(dir));
  Manifest m;
  m.info.version = 1;
  m.info.parent_version = 0;
  m.info.commit_time_micros = absl::ToUnixMicros(absl::Now());
  m.info.operation = "init";
  m.info.summary = "empty dataset";
  RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(dir, ManifestPath(1)), EncodeManifest(m)));
  RETL_RETURN_IF_ERROR(SyncDirectory(JoinPath(dir, kManifestDir)));
  RETL_RETURN_IF_ERROR(WriteCurrent(dir, 1));
  return SyncDirectory(dir);
}

DatasetWriter::DatasetWriter(std::string dir, WriterOptions options, std::unique_ptr<FileLock> lock)
    : dir_(std::move(dir)), options_(std::move(options)), lock_(std::move(lock)) {}

DatasetWriter::~DatasetWriter() = default;

absl::StatusOr<std::unique_ptr<DatasetWriter>> DatasetWriter::Open(const std::string& dir,
                                                                   const WriterOptions& options) {
  RETL_RETURN_IF_ERROR(ReadCurrent(dir).status());
  RETL_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(JoinPath(dir, kLockFile),
                                                     options.wait_for_lock));
  // Read CURRENT again under the lock: another writer may have committed.
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir));
  RETL_RETURN_IF_ERROR(RecoverAfterCrash(dir, current));
  return std::unique_ptr<DatasetWriter>(new DatasetWriter(dir, options, std::move(lock)));
}

absl::StatusOr<std::unique_ptr<Transaction>> DatasetWriter::Begin(std::string operation) {
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir_));
  RETL_ASSIGN_OR_RETURN(Manifest base, ReadManifest(dir_, current));
  return std::unique_ptr<Transaction>(new Transaction(this, std::move(operation), std::move(base)));
}

// ---- Transaction ----------------------------------------------------------------

Transaction::Transaction(DatasetWriter* writer, std::string operation, Manifest base)
    : writer_(writer), operation_(std::move(operation)), base_(std::move(base)), next_(base_) {}

Transaction::~Transaction() {
  if (!done_) Abort();
}

void Transaction::Abort() {
  for (const std::string& path : written_) {
    (void)RemoveFile(JoinPath(writer_->dir(), path));
  }
  written_.clear();
  done_ = true;
}

std::string Transaction::Summary() const {
  return summary_.empty() ? "no changes" : absl::StrJoin(summary_, "; ");
}

absl::StatusOr<SegmentInfo> Transaction::NextSegment() {
  if (next_seq_ > kMaxSegmentsPerVersion) {
    return absl::ResourceExhaustedError(StrCat("one version can add at most ", kMaxSegmentsPerVersion,
                                               " segment files; split the import"));
  }
  const int64_t version = base_.info.version + 1;
  SegmentInfo info;
  info.path = SegmentPath(version, next_seq_);
  info.created_version = version;
  IndexFileInfo index;
  index.path = IndexPath(version, next_seq_++);
  index.created_version = version;
  info.index = std::move(index);
  // Registered before writing: Abort removes partial files too.
  written_.push_back(info.path);
  written_.push_back(info.index->path);
  return info;
}

absl::Status Transaction::ValidateRows(const TableInfo& table, const TableData& data) {
  const Schema& schema = table.schema;
  auto where = [&](RowIndex row) {
    return data.describe_row ? data.describe_row(row) : StrCat("row ", row + 1);
  };
  if (data.columns.size() != schema.fields.size()) {
    return absl::InvalidArgumentError(StrCat("table '", table.name, "' has ",
                                                   schema.fields.size(), " columns, the data ",
                                                   data.columns.size()));
  }
  const RowIndex n = data.num_rows();
  for (size_t c = 0; c < schema.fields.size(); ++c) {
    const Column& col = data.columns[c];
    const Field& f = schema.fields[c];
    if (!(col.type() == f.type) || col.size() != n) {
      return absl::InvalidArgumentError(StrCat("column '", f.name, "' of the data is ",
                                                     col.type().ToString(), " with ", col.size(),
                                                     " rows; the table needs ", f.type.ToString(),
                                                     " with ", n));
    }
    if (!f.nullable && col.null_count() > 0) {
      for (RowIndex r = 0; r < n; ++r) {
        if (!col.IsValid(r)) {
          bool key = std::find(schema.primary_key.begin(), schema.primary_key.end(),
                               static_cast<int>(c)) != schema.primary_key.end();
          return absl::InvalidArgumentError(StrCat(
              where(r), ": column '", f.name, "' is NULL, but ",
              key ? "primary key columns" : "the column", " must not be NULL"));
        }
      }
    }
  }

  // Column by column on all cores; the error reported is the first column's.
  std::vector<absl::Status> status(schema.fields.size());
  ParallelFor(schema.fields.size(), writer_->options().threads, [&](size_t c) {
    status[c] = CheckValues(schema.fields[c], data.columns[c], data.utf8_checked, where);
  });
  for (const absl::Status& s : status) RETL_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PartitionInfo>> Transaction::WriteRows(const TableInfo& table,
                                                                  const TableData& data) {
  const Schema& schema = table.schema;
  const RowIndex n = data.num_rows();
  auto where = [&](RowIndex row) {
    return data.describe_row ? data.describe_row(row) : StrCat("row ", row + 1);
  };
  // NaNs are stored canonically (FORMAT.md §2.1), so they are canonical
  // before keys are ordered and compared: two NaN payloads are one key.
  const std::vector<Column>* columns = &data.columns;
  std::vector<Column> canonical;
  if (std::any_of(data.columns.begin(), data.columns.end(), HasNonCanonicalNaN)) {
    canonical = data.columns;
    for (Column& c : canonical) CanonicalizeNaNs(&c);
    columns = &canonical;
  }
  // Primary-key order, and uniqueness within the new rows.
  RowIndex duplicate = -1;
  std::vector<RowIndex> order = SortByKey(*columns, schema.primary_key, writer_->options().threads, &duplicate);
  if (duplicate > 0) {
    const RowIndex a = std::min(order[duplicate - 1], order[duplicate]);
    const RowIndex b = std::max(order[duplicate - 1], order[duplicate]);
    return absl::InvalidArgumentError(StrCat("duplicate primary key ",
                                             KeyText(schema, *columns, schema.primary_key, a), " at ",
                                             where(a), " and ", where(b)));
  }

  // Group by partition value, keeping key order inside each group. Rows are
  // told apart by the partition column's stored bytes, and groups merged by
  // their text (the partition's name), which each group computes once.
  std::map<std::optional<std::string>, std::vector<RowIndex>> groups;
  if (schema.partition_column.has_value()) {
    const Column& pc = (*columns)[*schema.partition_column];
    const int threads = writer_->options().threads;
    // On all cores: each range of rows numbers the values it sees in a map of
    // its own; those few values are then numbered by group in one map.
    const RowRanges ranges(n);
    constexpr uint32_t kNull = UINT32_MAX;
    std::vector<uint32_t> group_of(n);
    struct Range {
      absl::flat_hash_map<std::string_view, uint32_t> ids;
      std::vector<RowIndex> first_row;  // per local id
      std::vector<uint32_t> group;      // per local id
    };
    std::vector<Range> parts(ranges.size());
    ParallelFor(ranges.size(), threads, [&](size_t k) {
      Range& part = parts[k];
      const auto [begin, end] = ranges[k];
      for (RowIndex r = begin; r < end; ++r) {
        if (!pc.IsValid(r)) {
          group_of[r] = kNull;
          continue;
        }
        auto [it, inserted] = part.ids.try_emplace(RawValue(pc, r), static_cast<uint32_t>(part.first_row.size()));
        if (inserted) part.first_row.push_back(r);
        group_of[r] = it->second;
      }
    });
    std::map<std::optional<std::string>, uint32_t> group_ids;
    for (Range& part : parts) {
      for (RowIndex r : part.first_row) {
        part.group.push_back(group_ids.try_emplace(ValueText(pc, r), static_cast<uint32_t>(group_ids.size())).first->second);
      }
    }
    const uint32_t null_group = static_cast<uint32_t>(group_ids.size());  // if any row is NULL
    const bool any_null = pc.null_count() > 0;
    ParallelFor(ranges.size(), threads, [&](size_t k) {
      const auto [begin, end] = ranges[k];
      for (RowIndex r = begin; r < end; ++r) {
        group_of[r] = group_of[r] == kNull ? null_group : parts[k].group[group_of[r]];
      }
    });
    // Each group's rows in key order: ranges of the order split by group,
    // then joined per group.
    const size_t group_count = group_ids.size() + (any_null ? 1 : 0);
    std::vector<std::vector<std::vector<RowIndex>>> split(ranges.size(), std::vector<std::vector<RowIndex>>(group_count));
    ParallelFor(ranges.size(), threads, [&](size_t k) {
      const auto [begin, end] = ranges[k];
      for (RowIndex i = begin; i < end; ++i) split[k][group_of[order[i]]].push_back(order[i]);
    });
    std::vector<std::vector<RowIndex>*> by_id(group_count);
    for (const auto& [text, id] : group_ids) by_id[id] = &groups[text];
    if (any_null) by_id[null_group] = &groups[std::nullopt];
    ParallelFor(group_count, threads, [&](size_t g) {
      size_t size = 0;
      for (const auto& range : split) size += range[g].size();
      by_id[g]->reserve(size);
      for (auto& range : split) {
        by_id[g]->insert(by_id[g]->end(), range[g].begin(), range[g].end());
        range[g] = {};
      }
    });
  } else if (n > 0) {
    groups[std::nullopt] = std::move(order);
  }

  SegmentWriteOptions options;
  options.block_rows = writer_->options().block_rows;
  options.compression = writer_->options().zstd ? Compression::kZstd : Compression::kNone;
  const int threads = writer_->options().threads;
  // Columns that some index (or the primary key) is built from.
  std::vector<bool> key_column(schema.fields.size(), false);
  auto key_columns = [&](size_t i) -> const std::vector<int>& {
    return i == 0 ? schema.primary_key : schema.indexes[i - 1].columns;
  };
  for (size_t i = 0; i <= schema.indexes.size(); ++i) {
    for (int c : key_columns(i)) key_column[c] = true;
  }
  // A partition's blocks are encoded in groups of consecutive blocks: a
  // group's rows are gathered into key order one column at a time (a random
  // read over one column stays in the caches far more than one over all of
  // them), then cut into the group's blocks.
  constexpr size_t kGroupBlocks = 16;
  // File names are given out in partition order before any work starts, so
  // the result does not depend on which thread does what.
  struct Job {
    const std::optional<std::string>* value;
    std::span<const RowIndex> rows;
    SegmentInfo info;
    std::vector<std::pair<RowIndex, RowIndex>> plan;
    std::vector<std::pair<size_t, size_t>> groups;  // [first block, end block)
    std::vector<EncodedBlock> blocks;
    std::vector<std::vector<Column>> taken;         // per group, per field: key columns in key order
    std::vector<IndexPart> parts;
    std::vector<absl::Status> task_status;          // per group and field, then per index
    absl::Status status;
  };
  const size_t fields = schema.fields.size();
  std::vector<Job> jobs;
  for (auto& [value, rows] : groups) {
    Job job;
    job.value = &value;
    job.rows = rows;
    RETL_ASSIGN_OR_RETURN(job.info, NextSegment());
    RETL_ASSIGN_OR_RETURN(job.plan, PlanSegmentBlocks(*columns, job.rows, options.block_rows));
    for (size_t k = 0; k < job.plan.size(); k += kGroupBlocks) {
      job.groups.emplace_back(k, std::min(job.plan.size(), k + kGroupBlocks));
    }
    job.blocks.resize(job.plan.size());
    for (size_t k = 0; k < job.plan.size(); ++k) {
      job.blocks[k].row_count = job.plan[k].second - job.plan[k].first;
      job.blocks[k].chunks.resize(fields);
    }
    job.taken.resize(job.groups.size());
    for (std::vector<Column>& group : job.taken) {
      for (const Field& f : schema.fields) group.emplace_back(f.type);
    }
    job.parts.resize(schema.indexes.size() + 1);
    job.task_status.resize(job.groups.size() * fields + job.parts.size());
    jobs.push_back(std::move(job));
  }
  // Tasks, largest first: each group of blocks of each partition, column by
  // column; then every index of every partition, from the key columns the
  // first tasks kept.
  struct Task {
    size_t job;
    size_t k;  // group * fields + column, or index k (0: the primary)
    int64_t cost;
  };
  std::vector<Task> encodes, indexes;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    for (size_t g = 0; g < job.groups.size(); ++g) {
      const int64_t rows = job.plan[job.groups[g].second - 1].second - job.plan[job.groups[g].first].first;
      for (size_t c = 0; c < fields; ++c) {
        const Column& column = (*columns)[c];
        const int64_t width = column.type().physical() == PhysicalType::kBytes
                                  ? 8 + static_cast<int64_t>(column.bytes().size()) / std::max<RowIndex>(1, column.size())
                                  : column.type().FixedWidth();
        encodes.push_back(Task{j, g * fields + c, rows * width});
      }
    }
    for (size_t i = 0; i < job.parts.size(); ++i) {
      indexes.push_back(Task{j, i, static_cast<int64_t>(job.rows.size())});
    }
  }
  auto by_cost = [](const Task& a, const Task& b) { return a.cost > b.cost; };
  std::stable_sort(encodes.begin(), encodes.end(), by_cost);
  std::stable_sort(indexes.begin(), indexes.end(), by_cost);
  ParallelFor(encodes.size(), threads, [&](size_t t) {
    Job& job = jobs[encodes[t].job];
    const size_t g = encodes[t].k / fields, c = encodes[t].k % fields;
    const auto [k0, k1] = job.groups[g];
    const RowIndex first = job.plan[k0].first;
    Column taken = (*columns)[c].Take(job.rows.subspan(first, job.plan[k1 - 1].second - first));
    std::string scratch;
    for (size_t k = k0; k < k1; ++k) {
      auto chunk = StoreChunk(EncodeChunk(taken, job.plan[k].first - first, job.plan[k].second - first), options,
                              &scratch);
      if (!chunk.ok()) {
        job.task_status[encodes[t].k] = chunk.status();
        return;
      }
      job.blocks[k].chunks[c] = *std::move(chunk);
    }
    if (key_column[c]) job.taken[g][c] = std::move(taken);
  });
  ParallelFor(indexes.size(), threads, [&](size_t t) {
    Job& job = jobs[indexes[t].job];
    const size_t i = indexes[t].k;
    NormalizedKeys keys, group_keys;
    std::vector<RowIndex> all;
    for (size_t g = 0; g < job.groups.size(); ++g) {
      all.resize(job.taken[g][key_columns(i)[0]].size());
      std::iota(all.begin(), all.end(), 0);
      NormalizeKeys(job.taken[g], key_columns(i), all, g == 0 ? &keys : &group_keys);
      if (g > 0) keys.Append(group_keys);
    }
    auto part = BuildIndexPart(schema, keys, static_cast<int>(i) - 1, /*primary_checked_unique=*/true);
    if (part.ok()) job.parts[i] = *std::move(part); else job.task_status[job.groups.size() * fields + i] = part.status();
  });
  // Then each partition's segment and index file are written (and synced).
  ParallelFor(jobs.size(), threads, [&](size_t j) {
    Job& job = jobs[j];
    job.status = [&]() -> absl::Status {
      for (const absl::Status& s : job.task_status) RETL_RETURN_IF_ERROR(s);
      job.taken.clear();
      RETL_ASSIGN_OR_RETURN(SegmentWriteResult r,
                            WriteEncodedSegment(JoinPath(writer_->dir(), job.info.path), schema, job.blocks));
      job.blocks.clear();
      return CompleteSegment(writer_->dir(), schema, r, std::move(job.parts), &job.info);
    }();
  });
  std::vector<PartitionInfo> out;
  for (Job& job : jobs) {
    RETL_RETURN_IF_ERROR(job.status);  // the first partition's error, whatever the thread count
    PartitionInfo p;
    p.value = *job.value;
    p.segments.push_back(std::move(job.info));
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status Transaction::CheckKeysAgainst(const TableInfo& table, const TableData& data,
                                           const std::vector<const PartitionInfo*>& existing) {
  if (data.num_rows() == 0) return absl::OkStatus();
  RETL_ASSIGN_OR_RETURN(std::vector<KeyProbeSegment> segments, OpenProbeSegments(writer_->dir(), table, existing));
  return ProbeKeys(table, segments, data.columns, [&](RowIndex r) {
    return data.describe_row ? data.describe_row(r) : StrCat("row ", r + 1);
  });
}

struct Transaction::Input {
  const TableData* data = nullptr;  // all rows at once
  const RowFeed* feed = nullptr;    // or batch by batch
};

int64_t MemoryLimitBytes(const WriterOptions& options) {
  if (options.memory_limit > 0) return options.memory_limit;
  const int64_t pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? pages * page / 4 : int64_t{1} << 30;
}

int64_t BatchBytes(const WriterOptions& options) { return std::max<int64_t>(1, MemoryLimitBytes(options) / 4); }

int64_t ColumnBytes(const std::vector<Column>& columns) {
  int64_t bytes = 0;
  for (const Column& c : columns) {
    bytes += static_cast<int64_t>(c.validity().size());
    if (c.type().physical() == PhysicalType::kBytes) {
      bytes += static_cast<int64_t>(c.offsets().size() * sizeof(uint64_t) + c.bytes().size());
    } else {
      bytes += static_cast<int64_t>(c.size()) * c.type().FixedWidth();
    }
  }
  return bytes;
}

absl::StatusOr<std::vector<PartitionInfo>> Transaction::WriteInput(
    const TableInfo& table, const Input& input, const std::function<absl::Status(const TableData&)>& check,
    const std::function<absl::StatusOr<std::vector<const PartitionInfo*>>()>& existing, RowIndex* rows) {
  if (input.data != nullptr) {
    const TableData& data = *input.data;
    RETL_RETURN_IF_ERROR(ValidateRows(table, data));
    if (check) RETL_RETURN_IF_ERROR(check(data));
    if (existing) {
      RETL_ASSIGN_OR_RETURN(auto partitions, existing());
      RETL_RETURN_IF_ERROR(CheckKeysAgainst(table, data, partitions));
    }
    *rows = data.num_rows();
    return WriteRows(table, data);
  }
  // Batches are held while they fit in a quarter of the memory limit; past that,
  // each is sorted and spilled to disk, and the runs are merged.
  const RowFeed& feed = *input.feed;
  const int64_t limit = BatchBytes(writer_->options());
  std::vector<TableData> held;
  std::vector<RowIndex> held_start;  // first row of each held batch
  int64_t held_bytes = 0;
  std::unique_ptr<SpilledBuild> spilled;
  RowIndex total = 0;
  auto add = [&](TableData batch) -> absl::Status {
    RETL_RETURN_IF_ERROR(ValidateRows(table, batch));
    if (check) RETL_RETURN_IF_ERROR(check(batch));
    const RowIndex first_row = total;
    total += batch.num_rows();
    if (batch.num_rows() == 0) return absl::OkStatus();
    if (spilled == nullptr) {
      held_bytes += ColumnBytes(batch.columns);
      held_start.push_back(first_row);
      held.push_back(std::move(batch));
      if (held_bytes <= limit) return absl::OkStatus();
      RETL_ASSIGN_OR_RETURN(auto file, SortedRunFile::Create(JoinPath(writer_->dir(), kDataDir), table.schema.fields));
      spilled = std::make_unique<SpilledBuild>(table.schema, writer_->options(), std::move(file));
      for (size_t b = 0; b < held.size(); ++b) {
        RETL_RETURN_IF_ERROR(spilled->Add(std::move(held[b]), held_start[b]));
        held[b] = TableData();
      }
      held.clear();
      ::malloc_trim(0);
      return absl::OkStatus();
    }
    absl::Status s = spilled->Add(std::move(batch), first_row);
    // The batch is gone: give its memory back, so that the process does not
    // keep the largest batch's worth of free heap besides the next one.
    ::malloc_trim(0);
    return s;
  };
  RETL_RETURN_IF_ERROR(feed.read(add));
  *rows = total;
  if (spilled == nullptr) {
    // In memory after all: the batches as one.
    TableData data;
    if (held.size() == 1) {
      data = std::move(held[0]);
    } else {
      for (const Field& f : table.schema.fields) data.columns.emplace_back(f.type);
      for (size_t c = 0; c < data.columns.size(); ++c) {  // sized once: no copies as they grow
        uint64_t bytes = 0;
        for (const TableData& batch : held) bytes += batch.columns[c].bytes().size();
        data.columns[c].Reserve(total, bytes);
      }
      for (TableData& batch : held) {
        for (size_t c = 0; c < data.columns.size(); ++c) {
          data.columns[c].AppendColumn(batch.columns[c]);
          batch.columns[c] = Column(table.schema.fields[c].type);
        }
      }
      data.describe_row = [&held, &held_start](RowIndex r) {
        const size_t b = std::upper_bound(held_start.begin(), held_start.end(), r) - held_start.begin() - 1;
        return held[b].describe_row ? held[b].describe_row(r - held_start[b]) : StrCat("row ", r + 1);
      };
    }
    if (existing) {
      RETL_ASSIGN_OR_RETURN(auto partitions, existing());
      RETL_RETURN_IF_ERROR(CheckKeysAgainst(table, data, partitions));
    }
    return WriteRows(table, data);
  }
  auto describe = [&](uint64_t origin) {
    return feed.describe ? feed.describe(origin) : StrCat("row ", origin + 1);
  };
  if (existing) {
    RETL_ASSIGN_OR_RETURN(auto partitions, existing());
    RETL_ASSIGN_OR_RETURN(std::vector<KeyProbeSegment> segments,
                          OpenProbeSegments(writer_->dir(), table, partitions));
    if (!segments.empty()) {
      RETL_RETURN_IF_ERROR(spilled->ForEachPage([&](const RunPage& page) {
        return ProbeKeys(table, segments, page.columns, [&](RowIndex r) { return describe(page.origins[r]); });
      }));
    }
  }
  return spilled->Merge(writer_->dir(), [this] { return NextSegment(); }, describe);
}

absl::Status Transaction::CreateTable(const std::string& name, const Schema& schema, const TableData& data) {
  return DoCreateTable(name, schema, Input{&data, nullptr}).status();
}
absl::StatusOr<RowIndex> Transaction::CreateTable(const std::string& name, const Schema& schema,
                                                  const RowFeed& feed) {
  return DoCreateTable(name, schema, Input{nullptr, &feed});
}
absl::Status Transaction::ReplaceTable(const std::string& name, const Schema& schema, const TableData& data) {
  return DoReplaceTable(name, schema, Input{&data, nullptr}).status();
}
absl::StatusOr<RowIndex> Transaction::ReplaceTable(const std::string& name, const Schema& schema,
                                                   const RowFeed& feed) {
  return DoReplaceTable(name, schema, Input{nullptr, &feed});
}
absl::Status Transaction::ReplacePartitions(const std::string& name, const TableData& data,
                                            const std::optional<std::optional<std::string>>& only_partition) {
  return DoReplacePartitions(name, Input{&data, nullptr}, only_partition).status();
}
absl::StatusOr<RowIndex> Transaction::ReplacePartitions(
    const std::string& name, const RowFeed& feed, const std::optional<std::optional<std::string>>& only_partition) {
  return DoReplacePartitions(name, Input{nullptr, &feed}, only_partition);
}
absl::Status Transaction::Append(const std::string& name, const TableData& data) {
  return DoAppend(name, Input{&data, nullptr}).status();
}
absl::StatusOr<RowIndex> Transaction::Append(const std::string& name, const RowFeed& feed) {
  return DoAppend(name, Input{nullptr, &feed});
}

absl::StatusOr<RowIndex> Transaction::DoCreateTable(const std::string& name, const Schema& schema,
                                                    const Input& input) {
  RETL_RETURN_IF_ERROR(ValidateTableName(name));
  RETL_RETURN_IF_ERROR(schema.Validate());
  if (next_.FindTable(name) != nullptr) {
    return absl::AlreadyExistsError(StrCat(
        "table '", name, "' already exists; use --mode replace-table, replace-partition or append"));
  }
  TableInfo table;
  table.name = name;
  table.schema = schema;
  table.created_version = table.modified_version = base_.info.version + 1;
  RowIndex rows = 0;
  RETL_ASSIGN_OR_RETURN(table.partitions, WriteInput(table, input, {}, {}, &rows));
  summary_.push_back(StrCat(name, ": created with ", Plural(rows, "row"), " in ",
                            Plural(table.partitions.size(), "partition")));
  next_.tables.push_back(std::move(table));
  std::sort(next_.tables.begin(), next_.tables.end(),
            [](const TableInfo& a, const TableInfo& b) { return a.name < b.name; });
  return rows;
}

absl::StatusOr<RowIndex> Transaction::DoReplaceTable(const std::string& name, const Schema& schema,
                                                     const Input& input) {
  RETL_RETURN_IF_ERROR(schema.Validate());
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(StrCat("table '", name, "' does not exist; use --mode create"));
  }
  TableInfo replacement;
  replacement.name = name;
  replacement.schema = schema;
  replacement.created_version = table->created_version;
  replacement.modified_version = base_.info.version + 1;
  RowIndex rows = 0;
  RETL_ASSIGN_OR_RETURN(replacement.partitions, WriteInput(replacement, input, {}, {}, &rows));
  summary_.push_back(StrCat(name, ": replaced with ", Plural(rows, "row"), " in ",
                            Plural(replacement.partitions.size(), "partition")));
  *table = std::move(replacement);
  return rows;
}

absl::StatusOr<RowIndex> Transaction::DoReplacePartitions(
    const std::string& name, const Input& input, const std::optional<std::optional<std::string>>& only_partition) {
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(StrCat("table '", name, "' does not exist; use --mode create"));
  }
  if (only_partition.has_value() && only_partition->has_value() && !table->partitioned()) {
    return absl::InvalidArgumentError(StrCat(
        "table '", name, "' is not partitioned, so it has no partition '", **only_partition, "'"));
  }
  // The partitions to replace: the one named, or those the rows name, in
  // the order first seen.
  std::vector<std::optional<std::string>> targets;
  if (only_partition.has_value()) targets.push_back(*only_partition);
  std::set<std::optional<std::string>> seen;
  absl::flat_hash_set<std::string> seen_raw;
  bool seen_null = false;
  RowIndex rows_before = 0;
  auto check = [&](const TableData& data) -> absl::Status {
    if (table->partitioned()) {
      const Column& pc = data.columns.at(*table->schema.partition_column);
      for (RowIndex r = 0; r < data.num_rows(); ++r) {
        if (pc.IsValid(r) ? seen_raw.contains(ToAbsl(RawValue(pc, r))) : seen_null) continue;
        std::optional<std::string> v;
        if (pc.IsValid(r)) v = ValueText(pc, r);
        if (only_partition.has_value() && v != *only_partition) {
          return absl::InvalidArgumentError(StrCat(
              data.describe_row ? data.describe_row(r) : StrCat("row ", rows_before + r + 1),
              ": partition column '", table->schema.fields[*table->schema.partition_column].name,
              "' is '", v.value_or("(NULL)"), "' but the import replaces only partition '",
              only_partition->value_or("(NULL)"), "'"));
        }
        if (pc.IsValid(r)) seen_raw.emplace(RawValue(pc, r)); else seen_null = true;
        if (seen.insert(v).second && !only_partition.has_value()) targets.push_back(v);
      }
    }
    rows_before += data.num_rows();
    return absl::OkStatus();
  };
  std::vector<const PartitionInfo*> kept;
  auto existing = [&]() -> absl::StatusOr<std::vector<const PartitionInfo*>> {
    if (table->partitioned() && !only_partition.has_value() && rows_before == 0) {
      return absl::InvalidArgumentError(
          "the input has no rows, so it names no partition to replace; give the partition to "
          "empty explicitly, or use drop-partition");
    }
    if (!table->partitioned()) targets.assign(1, std::nullopt);
    for (const PartitionInfo& p : table->partitions) {
      if (std::find(targets.begin(), targets.end(), p.value) == targets.end()) kept.push_back(&p);
    }
    return kept;
  };
  RowIndex rows = 0;
  RETL_ASSIGN_OR_RETURN(std::vector<PartitionInfo> fresh, WriteInput(*table, input, check, existing, &rows));
  std::vector<PartitionInfo> partitions;
  for (const PartitionInfo* p : kept) partitions.push_back(*p);
  for (PartitionInfo& p : fresh) partitions.push_back(std::move(p));
  std::sort(partitions.begin(), partitions.end(), PartitionLess);
  table->partitions = std::move(partitions);
  table->modified_version = base_.info.version + 1;
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.value_or(table->partitioned() ? "(NULL)" : "(default)"));
  summary_.push_back(StrCat(name, ": replaced ", Plural(targets.size(), "partition"), " (",
                            absl::StrJoin(names, ", "), ") with ", Plural(rows, "row")));
  return rows;
}

absl::StatusOr<RowIndex> Transaction::DoAppend(const std::string& name, const Input& input) {
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(StrCat("table '", name, "' does not exist; use --mode create"));
  }
  auto existing = [&]() -> absl::StatusOr<std::vector<const PartitionInfo*>> {
    std::vector<const PartitionInfo*> all;
    for (const PartitionInfo& p : table->partitions) all.push_back(&p);
    return all;
  };
  RowIndex rows = 0;
  RETL_ASSIGN_OR_RETURN(std::vector<PartitionInfo> fresh, WriteInput(*table, input, {}, existing, &rows));
  for (PartitionInfo& p : fresh) {
    auto it = std::find_if(table->partitions.begin(), table->partitions.end(),
                           [&](const PartitionInfo& q) { return q.value == p.value; });
    if (it == table->partitions.end()) {
      table->partitions.push_back(std::move(p));
    } else {
      for (SegmentInfo& s : p.segments) it->segments.push_back(std::move(s));
    }
  }
  std::sort(table->partitions.begin(), table->partitions.end(), PartitionLess);
  table->modified_version = base_.info.version + 1;
  summary_.push_back(StrCat(name, ": appended ", Plural(rows, "row")));
  return rows;
}

absl::Status Transaction::DropPartition(const std::string& name,
                                        const std::optional<std::string>& value) {
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) return absl::NotFoundError(StrCat("table '", name, "' does not exist"));
  auto it = std::find_if(table->partitions.begin(), table->partitions.end(),
                         [&](const PartitionInfo& p) { return p.value == value; });
  if (it == table->partitions.end()) {
    std::vector<std::string> names;
    for (const PartitionInfo& p : table->partitions) names.push_back(p.DisplayName(table->partitioned()));
    return absl::NotFoundError(StrCat("table '", name, "' has no partition ",
                                            value.has_value() ? StrCat("'", *value, "'")
                                            : table->partitioned() ? "(NULL)" : "(default)",
                                            " (partitions: ",
                                            names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  summary_.push_back(StrCat(name, ": dropped partition '", it->DisplayName(table->partitioned()),
                                  "' (", Plural(it->row_count(), "row"), ")"));
  table->partitions.erase(it);
  table->modified_version = base_.info.version + 1;
  return absl::OkStatus();
}

absl::Status Transaction::DropTable(const std::string& name) {
  auto it = std::find_if(next_.tables.begin(), next_.tables.end(),
                         [&](const TableInfo& t) { return t.name == name; });
  if (it == next_.tables.end()) return absl::NotFoundError(StrCat("table '", name, "' does not exist"));
  summary_.push_back(StrCat(name, ": dropped (", Plural(it->row_count(), "row"), ")"));
  next_.tables.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<int> Transaction::CompactPartition(const std::string& name,
                                                  const std::optional<std::string>& value,
                                                  int64_t target_rows, int min_segments) {
  if (target_rows < 1) return absl::InvalidArgumentError("the target segment size must be at least 1 row");
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) return absl::NotFoundError(StrCat("table '", name, "' does not exist"));
  auto it = std::find_if(table->partitions.begin(), table->partitions.end(),
                         [&](const PartitionInfo& p) { return p.value == value; });
  if (it == table->partitions.end()) {
    return absl::NotFoundError(StrCat("table '", name, "' has no partition ",
                                      value.has_value() ? StrCat("'", *value, "'") : "(NULL)"));
  }
  const int before = static_cast<int>(it->segments.size());
  if (before < std::max(min_segments, 2)) return 0;
  const TableInfo* base_table = base_.FindTable(name);
  const PartitionInfo* base_partition = base_table == nullptr ? nullptr : base_table->FindPartition(value);
  if (base_partition == nullptr || !(*base_partition == *it) || !(base_table->schema == table->schema)) {
    return absl::FailedPreconditionError(StrCat("compact partitions before other changes to table '", name,
                                                "' in the same transaction"));
  }
  // The rows, from the base version's files (held by a snapshot's lease).
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(writer_->dir()));
  RETL_ASSIGN_OR_RETURN(auto snap, ds->AtVersion(base_.info.version));
  TableData data;
  for (const Field& f : table->schema.fields) data.columns.emplace_back(f.type);
  ScanOptions scan;
  scan.partition = value;
  RETL_RETURN_IF_ERROR(snap->Scan(name, scan, [&](const RowBatch& batch) {
    for (size_t c = 0; c < batch.columns.size(); ++c) {
      Column& out = data.columns[batch.column_indices[c]];
      for (RowIndex r = 0; r < batch.num_rows; ++r) out.AppendFrom(batch.columns[c], r);
    }
    return absl::OkStatus();
  }));
  const RowIndex n = data.num_rows();
  if (n != it->row_count()) {
    return absl::DataLossError(StrCat("partition read back ", n, " rows, its manifest says ", it->row_count()));
  }
  // Key order, then slices of at most target_rows: each becomes a segment.
  const std::vector<RowIndex> order = SortByKey(data.columns, table->schema.primary_key);
  std::vector<SegmentInfo> segments;
  for (RowIndex start = 0; start < n; start += target_rows) {
    const RowIndex end = std::min<RowIndex>(n, start + target_rows);
    TableData slice;
    const std::vector<RowIndex> rows(order.begin() + start, order.begin() + end);
    for (const Column& c : data.columns) slice.columns.push_back(c.Take(rows));
    slice.describe_row = [](RowIndex r) { return StrCat("row ", r + 1); };
    RETL_ASSIGN_OR_RETURN(std::vector<PartitionInfo> written, WriteRows(*table, slice));
    for (PartitionInfo& p : written) {
      for (SegmentInfo& s : p.segments) segments.push_back(std::move(s));
    }
  }
  const std::string where = table->partitioned() ? StrCat(" '", it->DisplayName(true), "'") : "";
  summary_.push_back(StrCat(name, ": compacted partition", where, " (", before, " segments into ",
                            segments.size(), ", ", Plural(n, "row"), ")"));
  it->segments = std::move(segments);
  return before;
}

absl::Status Transaction::RestoreTables(const Manifest& old) {
  const std::string& dir = writer_->dir();
  auto check = [&](const std::string& path, uint64_t size) -> absl::Status {
    auto actual = FileSize(JoinPath(dir, path));
    if (!actual.ok() || *actual != size) {
      return absl::FailedPreconditionError(StrCat(
          "version ", old.info.version, " cannot be restored: its file '", path, "' ",
          actual.ok() ? StrCat("has ", *actual, " bytes, not ", size) : "is missing",
          " (removed by gc, or damaged); restore the dataset from a backup"));
    }
    return absl::OkStatus();
  };
  for (const TableInfo& t : old.tables) {
    for (const PartitionInfo& p : t.partitions) {
      for (const SegmentInfo& seg : p.segments) {
        RETL_RETURN_IF_ERROR(check(seg.path, seg.size));
        if (seg.index.has_value()) RETL_RETURN_IF_ERROR(check(seg.index->path, seg.index->size));
      }
    }
  }
  const int64_t version = base_.info.version + 1;
  std::vector<TableInfo> tables = old.tables;
  int changed = 0;
  for (TableInfo& t : tables) {
    const TableInfo* now = next_.FindTable(t.name);
    if (now != nullptr && now->schema == t.schema && now->partitions == t.partitions) {
      t.modified_version = now->modified_version;
      continue;
    }
    ++changed;
    t.modified_version = version;
    if (now == nullptr) t.created_version = version;  // dropped since: created again
  }
  int dropped = 0;
  for (const TableInfo& t : next_.tables) dropped += old.FindTable(t.name) == nullptr;
  summary_.push_back(StrCat("restored the tables of version ", old.info.version, " (",
                            Plural(changed, "table"), " changed, ", Plural(dropped, "table"),
                            " dropped)"));
  next_.tables = std::move(tables);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Transaction::Commit(const std::string& message) {
  if (done_) return absl::FailedPreconditionError("transaction already finished");
  const std::string& dir = writer_->dir();
  auto fail = [&](absl::Status s) {
    Abort();
    return s;
  };
  auto current = ReadCurrent(dir);
  if (!current.ok()) return fail(current.status());
  if (*current != base_.info.version) {
    return fail(absl::AbortedError(StrCat("version ", *current, " was committed while this "
                                                "transaction built on ", base_.info.version)));
  }
  const int64_t version = base_.info.version + 1;
  next_.info.version = version;
  next_.info.parent_version = base_.info.version;
  next_.info.commit_time_micros =
      std::max(absl::ToUnixMicros(absl::Now()), base_.info.commit_time_micros);
  next_.info.operation = operation_;
  next_.info.message = message;
  next_.info.summary = Summary();
  next_.info.created_by = writer_->options().created_by;
  next_.info.source = source_;
  next_.info.inputs = inputs_;

  // FORMAT.md §8.2: data durable, then the manifest, then CURRENT.
  std::string manifest_path = JoinPath(dir, ManifestPath(version));
  written_.push_back(ManifestPath(version));
  absl::Status s = SyncDirectory(JoinPath(dir, kDataDir));
  if (s.ok()) s = WriteFileDurably(manifest_path, EncodeManifest(next_));
  if (s.ok()) s = SyncDirectory(JoinPath(dir, kManifestDir));
  if (s.ok()) s = WriteCurrent(dir, version);
  if (!s.ok()) return fail(s);  // CURRENT still names the base version
  // The rename is the commit point: from here on the files belong to the
  // live version and must never be removed.
  written_.clear();
  done_ = true;
  s = SyncDirectory(dir);
  if (!s.ok()) {
    return absl::InternalError(StrCat("version ", version, " is live, but making its CURRENT "
                                      "durable failed (", s.message(), "): after a power loss "
                                      "the dataset may be back at version ", version - 1));
  }
  return version;
}

}  // namespace retl
