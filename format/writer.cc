#include "retl/writer.h"
#include "format/strings.h"

#include <errno.h>
#include <stdio.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "absl/container/flat_hash_map.h"
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

absl::Status CheckValues(const Field& f, const Column& col,
                         const std::function<std::string(RowIndex)>& where) {
  auto bad = [&](RowIndex r, std::string_view what) {
    return absl::InvalidArgumentError(StrCat(where(r), ": column '", f.name, "': ", what));
  };
  switch (f.type.id) {
    case TypeId::kString:
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
    status[c] = CheckValues(schema.fields[c], data.columns[c], where);
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
    const bool bytes = pc.type().physical() == PhysicalType::kBytes;
    const int width = bytes ? 0 : pc.type().FixedWidth();
    auto raw = [&](RowIndex r) {
      return bytes ? pc.GetBytes(r)
                   : std::string_view(reinterpret_cast<const char*>(pc.fixed_data()) + r * width, width);
    };
    absl::flat_hash_map<std::string_view, uint32_t> by_raw;
    std::vector<std::vector<RowIndex>*> target;  // by raw id
    std::vector<uint32_t> raw_id(n);
    constexpr uint32_t kNull = UINT32_MAX;
    for (RowIndex r = 0; r < n; ++r) {
      if (!pc.IsValid(r)) {
        raw_id[r] = kNull;
        continue;
      }
      auto [it, inserted] = by_raw.try_emplace(raw(r), static_cast<uint32_t>(target.size()));
      if (inserted) target.push_back(&groups[ValueText(pc, r)]);
      raw_id[r] = it->second;
    }
    std::vector<RowIndex>* null_group = nullptr;
    for (RowIndex r : order) {
      const uint32_t id = raw_id[r];
      if (id != kNull) {
        target[id]->push_back(r);
        continue;
      }
      if (null_group == nullptr) null_group = &groups[std::nullopt];
      null_group->push_back(r);
    }
  } else if (n > 0) {
    groups[std::nullopt] = std::move(order);
  }

  SegmentWriteOptions options;
  options.block_rows = writer_->options().block_rows;
  options.compression = writer_->options().zstd ? Compression::kZstd : Compression::kNone;
  const int threads = writer_->options().threads;
  const int64_t version = base_.info.version + 1;
  // File names are given out in partition order before any work starts, so
  // the result does not depend on which thread does what.
  struct Job {
    const std::optional<std::string>* value;
    std::span<const RowIndex> rows;
    SegmentInfo info;
    std::vector<std::pair<RowIndex, RowIndex>> plan;
    std::vector<EncodedBlock> blocks;
    std::vector<std::vector<NormalizedKeys>> keys;  // per block, per index (0: the primary)
    std::vector<IndexPart> parts;
    std::vector<absl::Status> task_status;  // per block, then per index
    absl::Status status;
  };
  std::vector<Job> jobs;
  for (auto& [value, rows] : groups) {
    if (next_seq_ > kMaxSegmentsPerVersion) {
      return absl::ResourceExhaustedError(StrCat("one version can add at most ",
                                                 kMaxSegmentsPerVersion,
                                                 " segment files; split the import"));
    }
    Job job;
    job.value = &value;
    job.rows = rows;
    job.info.path = SegmentPath(version, next_seq_);
    job.info.created_version = version;
    IndexFileInfo index;
    index.path = IndexPath(version, next_seq_++);
    index.created_version = version;
    job.info.index = std::move(index);
    RETL_ASSIGN_OR_RETURN(job.plan, PlanSegmentBlocks(*columns, job.rows, options.block_rows));
    job.blocks.resize(job.plan.size());
    job.keys.resize(job.plan.size());
    job.parts.resize(schema.indexes.size() + 1);
    job.task_status.resize(job.plan.size() + job.parts.size());
    // Registered before writing: Abort removes partial files too.
    written_.push_back(job.info.path);
    written_.push_back(job.info.index->path);
    jobs.push_back(std::move(job));
  }
  // Every block of every partition is encoded as a task of its own (largest
  // first); a block's task also normalizes its keys, from the rows it
  // gathered. Then every index of every partition is built from those keys.
  struct Task {
    size_t job;
    size_t k;  // block k, or index k (0: the primary)
    int64_t cost;
  };
  std::vector<Task> blocks, indexes;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    for (size_t k = 0; k < job.plan.size(); ++k) {
      blocks.push_back(Task{j, k, job.plan[k].second - job.plan[k].first});
    }
    for (size_t i = 0; i < job.parts.size(); ++i) {
      indexes.push_back(Task{j, i, static_cast<int64_t>(job.rows.size())});
    }
  }
  auto by_cost = [](const Task& a, const Task& b) { return a.cost > b.cost; };
  std::stable_sort(blocks.begin(), blocks.end(), by_cost);
  std::stable_sort(indexes.begin(), indexes.end(), by_cost);
  auto key_columns = [&](size_t i) -> const std::vector<int>& {
    return i == 0 ? schema.primary_key : schema.indexes[i - 1].columns;
  };
  ParallelFor(blocks.size(), threads, [&](size_t t) {
    Job& job = jobs[blocks[t].job];
    const size_t k = blocks[t].k;
    std::vector<Column> taken;
    auto block = EncodeSegmentBlock(*columns, job.rows, job.plan[k].first, job.plan[k].second, options, &taken);
    if (!block.ok()) {
      job.task_status[k] = block.status();
      return;
    }
    job.blocks[k] = *std::move(block);
    std::vector<RowIndex> all(job.plan[k].second - job.plan[k].first);
    std::iota(all.begin(), all.end(), 0);
    job.keys[k].resize(job.parts.size());
    for (size_t i = 0; i < job.parts.size(); ++i) NormalizeKeys(taken, key_columns(i), all, &job.keys[k][i]);
  });
  ParallelFor(indexes.size(), threads, [&](size_t t) {
    Job& job = jobs[indexes[t].job];
    const size_t i = indexes[t].k;
    NormalizedKeys keys;
    for (std::vector<NormalizedKeys>& block : job.keys) {
      if (block.empty()) continue;
      keys.Append(block[i]);
      block[i] = NormalizedKeys();  // only this task reads it
    }
    auto part = BuildIndexPart(schema, keys, static_cast<int>(i) - 1, /*primary_checked_unique=*/true);
    if (part.ok()) job.parts[i] = *std::move(part); else job.task_status[job.plan.size() + i] = part.status();
  });
  // Then each partition's segment and index file are written (and synced).
  ParallelFor(jobs.size(), threads, [&](size_t j) {
    Job& job = jobs[j];
    job.status = [&]() -> absl::Status {
      for (const absl::Status& s : job.task_status) RETL_RETURN_IF_ERROR(s);
      job.keys.clear();
      RETL_ASSIGN_OR_RETURN(SegmentWriteResult r,
                            WriteEncodedSegment(JoinPath(writer_->dir(), job.info.path), schema, job.blocks));
      job.blocks.clear();
      job.info.size = r.size;
      job.info.checksum = r.checksum;
      job.info.row_count = r.row_count;
      // The segment's indexes (FORMAT.md §12), naming the segment's checksum.
      RETL_ASSIGN_OR_RETURN(std::string index_bytes,
                            AssembleIndexFile(schema, r.row_count, std::move(job.parts), r.checksum));
      RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(writer_->dir(), job.info.index->path), index_bytes));
      job.info.index->size = index_bytes.size();
      job.info.index->checksum = Checksum64(index_bytes);
      return absl::OkStatus();
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
  const Schema& schema = table.schema;
  RowIndex existing_rows = 0;
  for (const PartitionInfo* p : existing) existing_rows += p->row_count();
  if (existing_rows == 0 || data.num_rows() == 0) return absl::OkStatus();
  // Probe each new key in the primary index of every segment that stays
  // (FORMAT.md §12.7), including segments this transaction wrote: a filter
  // rules out most segments at once.
  std::vector<KeyProbeSegment> segments;
  for (const PartitionInfo* p : existing) {
    for (const SegmentInfo& info : p->segments) {
      KeyProbeSegment k;
      k.partition = p;
      RETL_ASSIGN_OR_RETURN(k.segment, Segment::Open(JoinPath(writer_->dir(), info.path)));
      if (info.index.has_value()) {
        RETL_ASSIGN_OR_RETURN(auto file, MappedFile::Open(JoinPath(writer_->dir(), info.index->path)));
        RETL_ASSIGN_OR_RETURN(k.index, IndexFile::Open(std::move(file), info.index->checksum, schema,
                                                       info.row_count, info.checksum));
      }
      segments.push_back(std::move(k));
    }
  }
  RETL_ASSIGN_OR_RETURN(auto found, FindExistingKey(schema, data.columns, segments));
  if (!found.has_value()) return absl::OkStatus();
  const RowIndex r = found->first;
  const PartitionInfo& old_partition = *segments[found->second].partition;
  std::string new_partition;
  if (table.partitioned()) {
    const Column& pc = data.columns[*schema.partition_column];
    new_partition = StrCat(" (for partition '", pc.IsValid(r) ? ValueText(pc, r) : "(NULL)", "')");
  }
  return absl::InvalidArgumentError(StrCat(
      "duplicate primary key ", KeyText(schema, data.columns, schema.primary_key, r),
      ": the row at ", data.describe_row ? data.describe_row(r) : StrCat("row ", r + 1),
      new_partition, " already exists in partition '",
      old_partition.DisplayName(table.partitioned()), "' of table '", table.name, "'"));
}

absl::Status Transaction::CreateTable(const std::string& name, const Schema& schema,
                                      const TableData& data) {
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
  RETL_RETURN_IF_ERROR(ValidateRows(table, data));
  RETL_ASSIGN_OR_RETURN(table.partitions, WriteRows(table, data));
  summary_.push_back(StrCat(name, ": created with ", Plural(data.num_rows(), "row"), " in ",
                                  Plural(table.partitions.size(), "partition")));
  next_.tables.push_back(std::move(table));
  std::sort(next_.tables.begin(), next_.tables.end(),
            [](const TableInfo& a, const TableInfo& b) { return a.name < b.name; });
  return absl::OkStatus();
}

absl::Status Transaction::ReplaceTable(const std::string& name, const Schema& schema,
                                       const TableData& data) {
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
  RETL_RETURN_IF_ERROR(ValidateRows(replacement, data));
  RETL_ASSIGN_OR_RETURN(replacement.partitions, WriteRows(replacement, data));
  summary_.push_back(StrCat(name, ": replaced with ", Plural(data.num_rows(), "row"), " in ",
                                  Plural(replacement.partitions.size(), "partition")));
  *table = std::move(replacement);
  return absl::OkStatus();
}

absl::Status Transaction::ReplacePartitions(
    const std::string& name, const TableData& data,
    const std::optional<std::optional<std::string>>& only_partition) {
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(StrCat("table '", name, "' does not exist; use --mode create"));
  }
  if (only_partition.has_value() && only_partition->has_value() && !table->partitioned()) {
    return absl::InvalidArgumentError(StrCat(
        "table '", name, "' is not partitioned, so it has no partition '", **only_partition, "'"));
  }
  RETL_RETURN_IF_ERROR(ValidateRows(*table, data));
  if (table->partitioned() && !only_partition.has_value() && data.num_rows() == 0) {
    return absl::InvalidArgumentError(
        "the input has no rows, so it names no partition to replace; give the partition to "
        "empty explicitly, or use drop-partition");
  }
  // The partitions to replace, then the uniqueness check against the rest.
  std::vector<std::optional<std::string>> targets;
  if (only_partition.has_value()) {
    targets.push_back(*only_partition);
  }
  if (table->partitioned() && data.num_rows() > 0) {
    const Column& pc = data.columns.at(*table->schema.partition_column);
    std::set<std::optional<std::string>> seen;
    for (RowIndex r = 0; r < data.num_rows(); ++r) {
      std::optional<std::string> v;
      if (pc.IsValid(r)) v = ValueText(pc, r);
      if (only_partition.has_value() && v != *only_partition) {
        return absl::InvalidArgumentError(StrCat(
            data.describe_row ? data.describe_row(r) : StrCat("row ", r + 1),
            ": partition column '", table->schema.fields[*table->schema.partition_column].name,
            "' is '", v.value_or("(NULL)"), "' but the import replaces only partition '",
            only_partition->value_or("(NULL)"), "'"));
      }
      if (seen.insert(v).second && !only_partition.has_value()) targets.push_back(v);
    }
  } else if (!table->partitioned()) {
    targets.assign(1, std::nullopt);
  }
  std::vector<const PartitionInfo*> kept;
  for (const PartitionInfo& p : table->partitions) {
    if (std::find(targets.begin(), targets.end(), p.value) == targets.end()) kept.push_back(&p);
  }
  RETL_RETURN_IF_ERROR(CheckKeysAgainst(*table, data, kept));
  RETL_ASSIGN_OR_RETURN(std::vector<PartitionInfo> fresh, WriteRows(*table, data));
  std::vector<PartitionInfo> partitions;
  for (const PartitionInfo* p : kept) partitions.push_back(*p);
  for (PartitionInfo& p : fresh) partitions.push_back(std::move(p));
  std::sort(partitions.begin(), partitions.end(), PartitionLess);
  table->partitions = std::move(partitions);
  table->modified_version = base_.info.version + 1;
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.value_or(table->partitioned() ? "(NULL)" : "(default)"));
  summary_.push_back(StrCat(name, ": replaced ", Plural(targets.size(), "partition"), " (",
                                  absl::StrJoin(names, ", "), ") with ",
                                  Plural(data.num_rows(), "row")));
  return absl::OkStatus();
}

absl::Status Transaction::Append(const std::string& name, const TableData& data) {
  TableInfo* table = next_.FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(StrCat("table '", name, "' does not exist; use --mode create"));
  }
  std::vector<const PartitionInfo*> all;
  for (const PartitionInfo& p : table->partitions) all.push_back(&p);
  RETL_RETURN_IF_ERROR(ValidateRows(*table, data));
  RETL_RETURN_IF_ERROR(CheckKeysAgainst(*table, data, all));
  RETL_ASSIGN_OR_RETURN(std::vector<PartitionInfo> fresh, WriteRows(*table, data));
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
  summary_.push_back(StrCat(name, ": appended ", Plural(data.num_rows(), "row")));
  return absl::OkStatus();
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
