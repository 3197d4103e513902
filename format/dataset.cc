#include "retl/dataset.h"
#include "format/strings.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "format/file_util.h"
#include "format/index.h"
#include "format/lease.h"
#include "format/manifest.h"
#include "format/segment.h"

namespace retl {

// Index files opened by any snapshot of a Dataset, shared while in use.
struct IndexCache {
  std::string dir;
  std::mutex mu;
  std::unordered_map<std::string, std::weak_ptr<const IndexFile>> files;

  absl::StatusOr<std::shared_ptr<const IndexFile>> Open(const SegmentInfo& info,
                                                        const Schema& schema) {
    const IndexFileInfo& ix = *info.index;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = files.find(ix.path);
      if (it != files.end()) {
        if (auto index = it->second.lock()) {
          // The same file checked against this very entry and segment.
          if (index->file_size() == ix.size && index->checksum() == ix.checksum &&
              index->segment_checksum() == info.checksum) {
            return index;
          }
        }
      }
    }
    std::string path = JoinPath(dir, ix.path);
    auto file = MappedFile::Open(path);
    if (!file.ok()) {
      if (absl::IsNotFound(file.status())) {
        return absl::DataLossError(StrCat("index file '", path, "' listed in the manifest is missing"));
      }
      return file.status();
    }
    if ((*file)->size() != ix.size) {
      return absl::DataLossError(StrCat("index file '", path, "' has ", (*file)->size(),
                                        " bytes, the manifest says ", ix.size,
                                        " (truncated or replaced?)"));
    }
    RETL_ASSIGN_OR_RETURN(auto index, IndexFile::Open(*std::move(file), ix.checksum, schema,
                                                      info.row_count, info.checksum));
    std::lock_guard<std::mutex> lock(mu);
    if (files.size() > 1024) {
      for (auto it = files.begin(); it != files.end();) {
        it = it->second.expired() ? files.erase(it) : std::next(it);
      }
    }
    files[ix.path] = index;
    return index;
  }
};


absl::StatusOr<const TableInfo*> Snapshot::GetTable(std::string_view name) const {
  if (const TableInfo* t = manifest_.FindTable(name)) return t;
  std::vector<std::string> names;
  for (const TableInfo& t : manifest_.tables) names.push_back(t.name);
  return absl::NotFoundError(StrCat(
      "no table '", name, "' in version ", version(), names.empty() ? " (the dataset has no tables)"
                                                                    : StrCat(" (tables: ", absl::StrJoin(names, ", "), ")")));
}

std::shared_ptr<const Segment> Snapshot::segment(const SegmentInfo& info) const {
  auto it = segments_.find(info.path);
  return it == segments_.end() ? nullptr : it->second;
}

absl::StatusOr<std::shared_ptr<const IndexFile>> Snapshot::index(const TableInfo& table,
                                                                  const SegmentInfo& info) const {
  if (!info.index.has_value()) return nullptr;
  std::lock_guard<std::mutex> lock(indexes_mu_);
  auto it = indexes_.find(info.path);
  if (it != indexes_.end()) return it->second;
  RETL_ASSIGN_OR_RETURN(auto index, index_cache_->Open(info, table.schema));
  indexes_[info.path] = index;
  return index;
}

absl::Status Snapshot::Scan(std::string_view table_name, const ScanOptions& options,
                            const std::function<absl::Status(const RowBatch&)>& fn) const {
  RETL_ASSIGN_OR_RETURN(const TableInfo* table, GetTable(table_name));
  std::vector<int> indices;
  for (const std::string& name : options.columns) {
    int i = table->schema.FindField(name);
    if (i < 0) {
      return absl::NotFoundError(StrCat("table '", table->name, "' has no column '", name, "'"));
    }
    indices.push_back(i);
  }
  if (options.columns.empty()) {
    for (size_t i = 0; i < table->schema.fields.size(); ++i) indices.push_back(static_cast<int>(i));
  }
  if (options.partition.has_value() && table->FindPartition(*options.partition) == nullptr) {
    return absl::NotFoundError(StrCat(
        "table '", table->name, "' has no partition '",
        options.partition->value_or(table->partitioned() ? "(NULL)" : "(default)"), "' in version ",
        version()));
  }
  for (const PartitionInfo& p : table->partitions) {
    if (options.partition.has_value() && p.value != *options.partition) continue;
    for (const SegmentInfo& info : p.segments) {
      std::shared_ptr<const Segment> seg = segment(info);
      if (seg == nullptr) return absl::InternalError(StrCat("segment not open: ", info.path));
      for (size_t b = 0; b < seg->blocks().size(); ++b) {
        RowBatch batch;
        batch.table = table;
        batch.partition = &p;
        batch.column_indices = indices;
        batch.num_rows = seg->blocks()[b].row_count;
        for (int c : indices) {
          Column col(table->schema.fields[c].type);
          RETL_RETURN_IF_ERROR(seg->ReadChunk(b, c, &col));
          batch.columns.push_back(std::move(col));
        }
        RETL_RETURN_IF_ERROR(fn(batch));
      }
    }
  }
  return absl::OkStatus();
}

Dataset::Dataset(std::string dir) : dir_(std::move(dir)), index_cache_(std::make_shared<IndexCache>()) {
  index_cache_->dir = dir_;
}

absl::StatusOr<std::unique_ptr<Dataset>> Dataset::Open(const std::string& dir) {
  RETL_RETURN_IF_ERROR(ReadCurrent(dir).status());
  return std::unique_ptr<Dataset>(new Dataset(dir));
}

absl::StatusOr<int64_t> Dataset::CurrentVersion() const { return ReadCurrent(dir_); }

absl::StatusOr<std::shared_ptr<const Segment>> Dataset::OpenSegment(const SegmentInfo& info) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(info.path);
    if (it != cache_.end()) {
      if (auto seg = it->second.lock()) {
        // Same checks as a fresh open: a damaged manifest must not borrow a segment.
        if (seg->file_size() != info.size || seg->row_count() != info.row_count) {
          return absl::DataLossError(StrCat("segment '", JoinPath(dir_, info.path),
                                            "' does not match its manifest entry (size ",
                                            seg->file_size(), " vs ", info.size, ", rows ",
                                            seg->row_count(), " vs ", info.row_count, ")"));
        }
        return seg;
      }
    }
  }
  std::string path = JoinPath(dir_, info.path);
  auto file = MappedFile::Open(path);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) {
      return absl::DataLossError(StrCat("segment file '", path,
                                              "' listed in the manifest is missing"));
    }
    return file.status();
  }
  if ((*file)->size() != info.size) {
    return absl::DataLossError(StrCat("segment '", path, "' has ", (*file)->size(),
                                            " bytes, the manifest says ", info.size,
                                            " (truncated or replaced?)"));
  }
  RETL_ASSIGN_OR_RETURN(auto seg, Segment::Open(*std::move(file)));
  if (seg->row_count() != info.row_count) {
    return absl::DataLossError(StrCat("segment '", path, "' has ", seg->row_count(),
                                            " rows, the manifest says ", info.row_count));
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  // Drop expired entries now and then so the cache does not grow forever.
  if (cache_.size() > 1024) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.expired() ? cache_.erase(it) : std::next(it);
    }
  }
  cache_[info.path] = seg;
  return seg;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Dataset::AtVersion(int64_t version) const {
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir_));
  if (version < 1 || version > current) {
    return absl::NotFoundError(StrCat("version ", version, " of '", dir_,
                                            "' does not exist (the live version is ", current, ")"));
  }
  std::shared_ptr<Snapshot> snap(new Snapshot());
  snap->index_cache_ = index_cache_;
  // The lease comes first: gc reads leases before it expires a version, and
  // again after removing manifests (FORMAT.md §11).
  snap->lease_ = Lease::Acquire(dir_, version);
  auto manifest = ReadManifest(dir_, version);
  if (absl::IsNotFound(manifest.status())) {
    return absl::NotFoundError(StrCat("version ", version, " of '", dir_,
                                      "' is no longer retained (expired by retl-build gc); "
                                      "`retl-build versions` lists the retained versions"));
  }
  RETL_RETURN_IF_ERROR(manifest.status());
  snap->manifest_ = *std::move(manifest);
  for (const TableInfo& t : snap->manifest_.tables) {
    for (const PartitionInfo& p : t.partitions) {
      for (const SegmentInfo& info : p.segments) {
        RETL_ASSIGN_OR_RETURN(auto seg, OpenSegment(info));
        if (!(seg->schema() == t.schema)) {
          return absl::DataLossError(StrCat("segment '", JoinPath(dir_, info.path),
                                                  "' has a schema other than table '", t.name,
                                                  "' in the manifest"));
        }
        snap->segments_[info.path] = std::move(seg);
      }
    }
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Dataset::Latest() const {
  // CURRENT is only ever replaced by a rename (FORMAT.md §7), which gives it
  // a new inode and change time: one stat() tells whether the cached snapshot
  // is still the live one, without opening and reading the file.
  struct stat st;
  std::array<int64_t, 5> now{};
  const bool have_stat = ::stat(JoinPath(dir_, "CURRENT").c_str(), &st) == 0;
  if (have_stat) {
    now = {static_cast<int64_t>(st.st_dev), static_cast<int64_t>(st.st_ino),
           static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec,
           static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
           static_cast<int64_t>(st.st_size)};
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (latest_ != nullptr && current_stat_ == now) return latest_;
  }
  // CURRENT may move between reading it and opening the manifest; any version
  // up to the live one stays readable, so this is still a consistent snapshot.
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir_));
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (latest_ != nullptr && latest_->version() == current) {
      if (have_stat) current_stat_ = now;
      return latest_;
    }
  }
  auto opened = AtVersion(current);
  // gc may expire the version between reading CURRENT and opening its files
  // when a newer one was committed meanwhile: open the newer one then.
  for (int attempt = 0; !opened.ok() && attempt < 3; ++attempt) {
    auto again = ReadCurrent(dir_);
    if (!again.ok() || *again == current) break;
    current = *again;
    opened = AtVersion(current);
  }
  RETL_RETURN_IF_ERROR(opened.status());
  std::shared_ptr<const Snapshot> snap = *std::move(opened);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (latest_ == nullptr || latest_->version() < snap->version()) {
    latest_ = snap;
    // Only a stat taken before reading CURRENT may vouch for this version.
    current_stat_ = have_stat ? now : std::array<int64_t, 5>{};
  }
  return snap;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Dataset::AsOf(int64_t micros) const {
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir_));
  RETL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, ListManifestVersions(dir_));
  // Commit times never decrease along versions (FORMAT.md §7.2): walk back.
  int64_t oldest = -1, oldest_time = 0;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (*it > current) continue;
    RETL_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir_, *it));
    if (m.info.commit_time_micros <= micros) return AtVersion(*it);
    oldest = *it;
    oldest_time = m.info.commit_time_micros;
  }
  if (oldest < 0) return absl::NotFoundError(StrCat("no version of '", dir_, "' is retained"));
  return absl::NotFoundError(StrCat(
      "no version of '", dir_, "' was committed at or before ",
      absl::FormatTime("%Y-%m-%d %H:%M:%E6S UTC", absl::FromUnixMicros(micros), absl::UTCTimeZone()),
      "; the oldest retained is version ", oldest, " committed ",
      absl::FormatTime("%Y-%m-%d %H:%M:%E6S UTC", absl::FromUnixMicros(oldest_time),
                       absl::UTCTimeZone())));
}

absl::StatusOr<std::vector<VersionInfo>> Dataset::Versions() const {
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir_));
  RETL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, ListManifestVersions(dir_));
  std::vector<VersionInfo> out;
  for (int64_t v : versions) {
    if (v > current) continue;
    RETL_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir_, v));
    out.push_back(std::move(m.info));
  }
  return out;
}

}  // namespace retl
