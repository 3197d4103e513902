#include "format/gc.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "format/file_util.h"
#include "format/lease.h"
#include "format/manifest.h"
#include "format/strings.h"

namespace retl {

absl::StatusOr<GcReport> CollectGarbage(const std::string& dir, const GcOptions& o) {
  if (!o.keep_versions.has_value() && !o.keep_for_micros.has_value()) {
    return absl::InvalidArgumentError(
        "say what to keep: --keep-versions K, --keep-for DURATION, or both");
  }
  if (o.keep_versions.has_value() && *o.keep_versions < 1) {
    return absl::InvalidArgumentError("--keep-versions must be at least 1 (the live version)");
  }
  if (o.keep_for_micros.has_value() && *o.keep_for_micros < 0) {
    return absl::InvalidArgumentError("--keep-for must not be negative");
  }
  // The writer lock: no import adds files while we decide what is garbage
  // (and a crashed writer's leftovers are removed first).
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, o.writer));
  const int64_t now = o.now_micros != 0 ? o.now_micros : absl::ToUnixMicros(absl::Now());
  RETL_ASSIGN_OR_RETURN(const int64_t live, ReadCurrent(dir));
  RETL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, ListManifestVersions(dir));
  versions.erase(std::remove_if(versions.begin(), versions.end(), [&](int64_t v) { return v > live; }),
                 versions.end());
  struct Stored {
    std::string bytes;
    Manifest manifest;
  };
  std::map<int64_t, Stored> manifests;
  for (int64_t v : versions) {
    const std::string path = JoinPath(dir, ManifestPath(v));
    RETL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    RETL_ASSIGN_OR_RETURN(Manifest m, DecodeManifest(bytes, path));
    manifests.emplace(v, Stored{std::move(bytes), std::move(m)});
  }
  auto leased = [&]() -> absl::StatusOr<std::set<int64_t>> {
    RETL_ASSIGN_OR_RETURN(std::vector<LeaseInfo> leases, ListLeases(dir, now));
    std::set<int64_t> out;
    for (const LeaseInfo& l : leases) {
      if (l.live) out.insert(l.version);
    }
    return out;
  };
  RETL_ASSIGN_OR_RETURN(std::set<int64_t> held, leased());

  GcReport report;
  const size_t n = versions.size();
  for (size_t k = 0; k < n; ++k) {
    const int64_t v = versions[k];
    const bool by_count = o.keep_versions.has_value() && n - k <= static_cast<size_t>(*o.keep_versions);
    const bool by_age = o.keep_for_micros.has_value() &&
                        manifests[v].manifest.info.commit_time_micros >= now - *o.keep_for_micros;
    const bool by_lease = held.count(v) > 0;
    if (v == live || by_count || by_age || by_lease) {
      report.retained.push_back(v);
      if (by_lease && v != live && !by_count && !by_age) report.kept_for_leases.push_back(v);
    } else {
      report.expired.push_back(v);
    }
  }

  if (!o.dry_run && !report.expired.empty()) {
    const std::string manifest_dir = JoinPath(dir, kManifestDir);
    for (int64_t v : report.expired) RETL_RETURN_IF_ERROR(RemoveFile(JoinPath(dir, ManifestPath(v))));
    RETL_RETURN_IF_ERROR(SyncDirectory(manifest_dir));
    // A reader may have leased an expired version after the first look and
    // read its manifest before it went: put the manifest back.
    RETL_ASSIGN_OR_RETURN(std::set<int64_t> held_now, leased());
    std::vector<int64_t> still_expired;
    for (int64_t v : report.expired) {
      if (held_now.count(v) == 0) {
        still_expired.push_back(v);
        continue;
      }
      RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(dir, ManifestPath(v)), manifests[v].bytes));
      report.retained.push_back(v);
      report.kept_for_leases.push_back(v);
    }
    if (still_expired.size() != report.expired.size()) RETL_RETURN_IF_ERROR(SyncDirectory(manifest_dir));
    report.expired = std::move(still_expired);
    std::sort(report.retained.begin(), report.retained.end());
  }

  // Files every retained version needs.
  std::set<std::string> needed;
  for (int64_t v : report.retained) {
    for (const TableInfo& t : manifests[v].manifest.tables) {
      for (const PartitionInfo& p : t.partitions) {
        for (const SegmentInfo& s : p.segments) {
          needed.insert(s.path);
          if (s.index.has_value()) needed.insert(s.index->path);
        }
      }
    }
  }
  const std::string data_dir = JoinPath(dir, kDataDir);
  RETL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(data_dir));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const int64_t v = VersionOfFileName(name);
    if (v < 0 || v > live) continue;  // not ours, or a writer's (recovery handles those)
    const std::string rel = JoinPath(kDataDir, name);
    if (needed.count(rel) > 0) continue;
    const std::string path = JoinPath(dir, rel);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    ++report.files_removed;
    report.bytes_removed += static_cast<uint64_t>(st.st_size);
    if (!o.dry_run) RETL_RETURN_IF_ERROR(RemoveFile(path));
  }
  if (!o.dry_run && report.files_removed > 0) RETL_RETURN_IF_ERROR(SyncDirectory(data_dir));

  // Leases of crashed readers.
  RETL_ASSIGN_OR_RETURN(std::vector<LeaseInfo> leases, ListLeases(dir, now));
  for (const LeaseInfo& l : leases) {
    if (l.live) continue;
    ++report.stale_leases_removed;
    if (!o.dry_run) RETL_RETURN_IF_ERROR(RemoveFile(l.path));
  }
  return report;
}

}  // namespace retl
