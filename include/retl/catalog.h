// What a version of a dataset holds (FORMAT.md §7): its tables, their
// partitions and segment files, and the history record of the version. These
// are plain values decoded from a manifest.
#ifndef RETL_CATALOG_H_
#define RETL_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "retl/export.h"
#include "retl/types.h"

namespace retl {

// The index file of a segment (FORMAT.md §12): its primary-key and secondary
// indexes and key filters.
struct RETL_EXPORT IndexFileInfo {
  std::string path;  // relative to the dataset directory
  uint64_t size = 0;
  uint64_t checksum = 0;  // XXH64 of the whole file
  int64_t created_version = 0;

  friend bool operator==(const IndexFileInfo&, const IndexFileInfo&) = default;
};

struct RETL_EXPORT SegmentInfo {
  std::string path;  // relative to the dataset directory
  uint64_t size = 0;
  RowIndex row_count = 0;
  uint64_t checksum = 0;  // XXH64 of the whole file
  int64_t created_version = 0;
  // Absent for segments written without indexes (before format §12 existed).
  std::optional<IndexFileInfo> index;

  friend bool operator==(const SegmentInfo&, const SegmentInfo&) = default;
};

struct RETL_EXPORT PartitionInfo {
  // Canonical text of the partition value; nullopt for the NULL partition of
  // a partitioned table and for the default partition of an unpartitioned one.
  std::optional<std::string> value;
  std::vector<SegmentInfo> segments;

  RowIndex row_count() const;
  uint64_t bytes() const;
  // The value, "(NULL)" for the NULL partition, or "(default)".
  std::string DisplayName(bool partitioned) const;

  friend bool operator==(const PartitionInfo&, const PartitionInfo&) = default;
};

struct RETL_EXPORT TableInfo {
  std::string name;
  Schema schema;
  std::vector<PartitionInfo> partitions;  // sorted by value, NULL first
  int64_t created_version = 0;
  int64_t modified_version = 0;

  bool partitioned() const { return schema.partition_column.has_value(); }
  RowIndex row_count() const;
  uint64_t bytes() const;
  const PartitionInfo* FindPartition(const std::optional<std::string>& value) const;

  friend bool operator==(const TableInfo&, const TableInfo&) = default;
};

// An input file a version was built from (lineage).
struct RETL_EXPORT InputFileInfo {
  std::string path;        // as given to the import
  uint64_t size = 0;
  uint64_t checksum = 0;   // XXH64 of the file's bytes
  std::string table;       // the table it fed, if known

  friend bool operator==(const InputFileInfo&, const InputFileInfo&) = default;
};

// The history record of one version.
struct RETL_EXPORT VersionInfo {
  int64_t version = 0;
  int64_t parent_version = 0;
  int64_t commit_time_micros = 0;  // UTC
  std::string operation;           // "init", "import", "drop-table", ...
  std::string message;             // the user's --message, may be empty
  std::string summary;             // what changed, written by the tool
  std::string created_by;          // e.g. "retl 0.1.0"
  std::string source;              // the user's --source label (a warehouse export id), may be empty
  std::vector<InputFileInfo> inputs;  // the files the change was built from

  friend bool operator==(const VersionInfo&, const VersionInfo&) = default;
};

// The full content of one manifest.
struct RETL_EXPORT Manifest {
  VersionInfo info;
  std::vector<TableInfo> tables;  // sorted by name

  const TableInfo* FindTable(std::string_view name) const;
  TableInfo* FindTable(std::string_view name);

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

}  // namespace retl

#endif  // RETL_CATALOG_H_
