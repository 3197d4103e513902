#include "format/ship.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "format/file_util.h"
#include "format/lease.h"
#include "format/manifest.h"
#include "format/strings.h"
#include "retl/dataset.h"
#include "retl/verify.h"
#include "retl/writer.h"

namespace retl {

namespace {

bool Exists(const std::string& path, uint64_t* size = nullptr) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return true;
}

// Copies `from` to `to` through `to`.tmp (made durable, then renamed),
// checking the bytes against `checksum`.
absl::Status CopyFile(const std::string& from, const std::string& to, uint64_t size, uint64_t checksum) {
  RETL_ASSIGN_OR_RETURN(auto src, MappedFile::Open(from));
  if (src->size() != size) {
    return absl::DataLossError(StrCat("'", from, "' has ", src->size(), " bytes, its manifest says ", size));
  }
  if (Checksum64(src->data(), src->size()) != checksum) {
    return absl::DataLossError(StrCat("'", from, "' does not match its manifest's checksum: the source is "
                                      "damaged (run retl-build verify on it)"));
  }
  const std::string tmp = StrCat(to, kTempSuffix);
  RETL_ASSIGN_OR_RETURN(auto out, WritableFile::Create(tmp));
  RETL_RETURN_IF_ERROR(out->Append(src->view()));
  RETL_RETURN_IF_ERROR(out->Sync());
  RETL_RETURN_IF_ERROR(out->Close());
  if (::rename(tmp.c_str(), to.c_str()) != 0) return ErrnoStatus("cannot rename to", to, errno);
  return absl::OkStatus();
}

// Readies `dest` for the first copy of a dataset: a new or empty directory,
// or one a killed first copy left (its directories, no CURRENT). Makes the
// directories, takes the lock, and removes half-written copies.
absl::StatusOr<std::unique_ptr<FileLock>> PrepareFirstCopy(const std::string& dest, bool wait, std::string_view verb) {
  if (Exists(dest)) {
    RETL_ASSIGN_OR_RETURN(auto names, ListDirectory(dest));
    for (const std::string& name : names) {
      if (name != kDataDir && name != kManifestDir && name != kLockFile && name != kLeaseDir) {
        return absl::FailedPreconditionError(StrCat("'", dest, "' is neither a dataset nor empty (it has '", name,
                                                    "'); ", verb, " to a new or empty directory"));
      }
    }
  }
  RETL_RETURN_IF_ERROR(CreateDirectory(dest));
  RETL_RETURN_IF_ERROR(CreateDirectory(JoinPath(dest, kDataDir)));
  RETL_RETURN_IF_ERROR(CreateDirectory(JoinPath(dest, kManifestDir)));
  RETL_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(JoinPath(dest, kLockFile), wait));
  RETL_ASSIGN_OR_RETURN(auto names, ListDirectory(JoinPath(dest, kDataDir)));
  for (const std::string& name : names) {
    if (std::string_view(name).ends_with(kTempSuffix)) {
      RETL_RETURN_IF_ERROR(RemoveFile(JoinPath(JoinPath(dest, kDataDir), name)));
    }
  }
  return lock;
}

}  // namespace

absl::StatusOr<ShipReport> ShipVersion(const std::string& src, const std::string& dest,
                                       const ShipOptions& o) {
  // The snapshot holds a lease: a gc of the source keeps its files meanwhile.
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(src));
  std::shared_ptr<const Snapshot> snap;
  if (o.version.has_value()) {
    RETL_ASSIGN_OR_RETURN(snap, ds->AtVersion(*o.version));
  } else {
    RETL_ASSIGN_OR_RETURN(snap, ds->Latest());
  }
  const int64_t version = snap->version();
  RETL_ASSIGN_OR_RETURN(std::string manifest_bytes, ReadFile(JoinPath(src, ManifestPath(version))));

  // The destination: a dataset, or a directory to become one.
  const bool fresh = !Exists(JoinPath(dest, kCurrentFile));
  std::unique_ptr<DatasetWriter> writer;  // holds the lock of an existing destination
  std::unique_ptr<FileLock> lock;         // ... or of a new one
  int64_t dest_version = 0;
  if (fresh) {
    RETL_ASSIGN_OR_RETURN(lock, PrepareFirstCopy(dest, o.wait_for_lock, "ship"));
  } else {
    WriterOptions w;
    w.wait_for_lock = o.wait_for_lock;
    RETL_ASSIGN_OR_RETURN(writer, DatasetWriter::Open(dest, w));  // lock + crash recovery
    RETL_ASSIGN_OR_RETURN(dest_version, ReadCurrent(dest));
    if (dest_version > version) {
      return absl::FailedPreconditionError(StrCat("'", dest, "' is at version ", dest_version, ", newer than version ",
                                                  version, " of '", src, "'; ship a newer version"));
    }
    // The destination must be a copy of this dataset: its live manifest is
    // the source's manifest of that version, when the source still has it.
    auto theirs = ReadFile(JoinPath(dest, ManifestPath(dest_version)));
    auto ours = ReadFile(JoinPath(src, ManifestPath(dest_version)));
    if (theirs.ok() && ours.ok() && *theirs != *ours) {
      return absl::FailedPreconditionError(StrCat("'", dest, "' is not a copy of '", src, "': their version ",
                                                  dest_version, " differ"));
    }
  }
  ShipReport report;
  report.version = version;
  if (!fresh && dest_version == version) {
    report.already_live = true;
    return report;
  }

  // 1. Data files, then make their directory entries durable.
  for (const TableInfo& t : snap->tables()) {
    for (const PartitionInfo& p : t.partitions) {
      for (const SegmentInfo& s : p.segments) {
        struct Entry {
          const std::string* path;
          uint64_t size, checksum;
        };
        std::vector<Entry> entries = {{&s.path, s.size, s.checksum}};
        if (s.index.has_value()) entries.push_back({&s.index->path, s.index->size, s.index->checksum});
        for (const Entry& e : entries) {
          const std::string from = JoinPath(src, *e.path), to = JoinPath(dest, *e.path);
          uint64_t have = 0;
          if (Exists(to, &have)) {
            if (have != e.size) {
              return absl::FailedPreconditionError(StrCat("'", to, "' exists with ", have, " bytes, not ", e.size,
                                                          ": the destination is not a copy of '", src, "'"));
            }
            ++report.files_present;
            continue;
          }
          if (!o.copy && ::link(from.c_str(), to.c_str()) == 0) {
            ++report.files_linked;
            report.bytes_linked += e.size;
            continue;
          }
          if (!o.copy && errno != EXDEV && errno != EPERM && errno != EMLINK) {
            return ErrnoStatus(StrCat("cannot link '", from, "' as"), to, errno);
          }
          RETL_RETURN_IF_ERROR(CopyFile(from, to, e.size, e.checksum));
          ++report.files_copied;
          report.bytes_copied += e.size;
        }
      }
    }
  }
  RETL_RETURN_IF_ERROR(SyncDirectory(JoinPath(dest, kDataDir)));
  // 2. The manifest (a partial one above CURRENT is ignored by readers and
  // removed by the next writer, FORMAT.md §8.3).
  RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(dest, ManifestPath(version)), manifest_bytes));
  RETL_RETURN_IF_ERROR(SyncDirectory(JoinPath(dest, kManifestDir)));
  // 3. CURRENT, by rename: the commit point.
  RETL_RETURN_IF_ERROR(WriteCurrent(dest, version));
  RETL_RETURN_IF_ERROR(SyncDirectory(dest));
  return report;
}

absl::StatusOr<CopyReport> CopyDataset(const std::string& src, const std::string& dest) {
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(src));
  // Every retained version, each held by a lease from here to the end.
  RETL_ASSIGN_OR_RETURN(std::vector<VersionInfo> infos, ds->Versions());
  std::vector<std::shared_ptr<const Snapshot>> snaps;
  for (const VersionInfo& v : infos) {
    auto snap = ds->AtVersion(v.version);
    if (absl::IsNotFound(snap.status())) continue;  // expired by a gc meanwhile
    RETL_RETURN_IF_ERROR(snap.status());
    snaps.push_back(*std::move(snap));
  }
  if (snaps.empty()) return absl::NotFoundError(StrCat("'", src, "' has no version to copy"));

  const bool fresh = !Exists(JoinPath(dest, kCurrentFile));
  std::unique_ptr<FileLock> lock;
  std::unique_ptr<DatasetWriter> writer;
  if (fresh) {
    RETL_ASSIGN_OR_RETURN(lock, PrepareFirstCopy(dest, /*wait=*/false, "copy"));
  } else {
    RETL_ASSIGN_OR_RETURN(writer, DatasetWriter::Open(dest, WriterOptions{}));
    RETL_ASSIGN_OR_RETURN(const int64_t at, ReadCurrent(dest));
    auto theirs = ReadFile(JoinPath(dest, ManifestPath(at)));
    auto ours = ReadFile(JoinPath(src, ManifestPath(at)));
    if (!theirs.ok() || (ours.ok() && *theirs != *ours) || at > snaps.back()->version()) {
      return absl::FailedPreconditionError(StrCat("'", dest, "' is not an earlier copy of '", src,
                                                  "'; copy to a new or empty directory"));
    }
  }
  CopyReport report;
  // 1. Data files, each once.
  std::set<std::string> done;
  for (const auto& snap : snaps) {
    for (const TableInfo& t : snap->tables()) {
      for (const PartitionInfo& p : t.partitions) {
        for (const SegmentInfo& s : p.segments) {
          std::vector<std::tuple<std::string, uint64_t, uint64_t>> files = {{s.path, s.size, s.checksum}};
          if (s.index.has_value()) files.emplace_back(s.index->path, s.index->size, s.index->checksum);
          for (const auto& [path, size, checksum] : files) {
            if (!done.insert(path).second) continue;
            const std::string to = JoinPath(dest, path);
            uint64_t have = 0;
            if (Exists(to, &have) && have == size) {
              ++report.files_present;
              continue;
            }
            RETL_RETURN_IF_ERROR(CopyFile(JoinPath(src, path), to, size, checksum));
            ++report.files_copied;
            report.bytes_copied += size;
          }
        }
      }
    }
  }
  RETL_RETURN_IF_ERROR(SyncDirectory(JoinPath(dest, kDataDir)));
  // 2. Manifests, oldest first; 3. CURRENT.
  for (const auto& snap : snaps) {
    RETL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(JoinPath(src, ManifestPath(snap->version()))));
    RETL_RETURN_IF_ERROR(WriteFileDurably(JoinPath(dest, ManifestPath(snap->version())), bytes));
    report.versions.push_back(snap->version());
  }
  RETL_RETURN_IF_ERROR(SyncDirectory(JoinPath(dest, kManifestDir)));
  RETL_RETURN_IF_ERROR(WriteCurrent(dest, snaps.back()->version()));
  RETL_RETURN_IF_ERROR(SyncDirectory(dest));
  // 4. Read back every byte of the copy.
  for (int64_t v : report.versions) {
    RETL_ASSIGN_OR_RETURN(VerifyReport r, VerifyVersion(dest, v));
    for (const std::string& problem : r.problems) report.problems.push_back(StrCat("version ", v, ": ", problem));
  }
  return report;
}

}  // namespace retl
