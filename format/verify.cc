#include "retl/verify.h"
#include "format/strings.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "format/encoding.h"
#include "format/file_util.h"
#include "format/index.h"
#include "format/metadata.h"
#include "format/manifest.h"
#include "format/row_key.h"
#include "format/segment.h"
#include "format/text.h"

namespace retl {

namespace {

bool SameStat(const std::optional<StatValue>& a, const std::optional<StatValue>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (a->kind != b->kind) return false;
  if (a->kind == StatValue::Kind::kDouble) {  // bitwise: NaN payloads and -0.0 count
    return std::memcmp(&a->double_value, &b->double_value, sizeof(double)) == 0;
  }
  return a->int_value == b->int_value && a->bytes_value == b->bytes_value;
}

bool SameStats(const ChunkStats& a, const ChunkStats& b) {
  return a.null_count == b.null_count && SameStat(a.min, b.min) && SameStat(a.max, b.max);
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyVersion(const std::string& dir, int64_t version) {
  RETL_ASSIGN_OR_RETURN(int64_t current, ReadCurrent(dir));
  if (version < 1 || version > current) {
    return absl::NotFoundError(StrCat("version ", version, " of '", dir,
                                            "' does not exist (the live version is ", current, ")"));
  }
  VerifyReport report;
  report.version = version;
  auto manifest = ReadManifest(dir, version);
  if (!manifest.ok()) {
    if (absl::IsNotFound(manifest.status())) return manifest.status();
    report.problems.push_back(std::string(manifest.status().message()));
    return report;
  }
  for (const TableInfo& table : manifest->tables) {
    ++report.tables;
    const Schema& schema = table.schema;
    std::vector<int> key_positions;
    for (size_t k = 0; k < schema.primary_key.size(); ++k) key_positions.push_back(static_cast<int>(k));
    // Key bytes -> where first seen, for table-wide uniqueness.
    absl::flat_hash_map<std::string, std::string> keys_seen;
    std::string key;
    for (const PartitionInfo& partition : table.partitions) {
      ++report.partitions;
      for (const SegmentInfo& info : partition.segments) {
        ++report.segments;
        std::string path = JoinPath(dir, info.path);
        auto problem = [&](const auto& what) {
          report.problems.push_back(StrCat("table '", table.name, "' partition '",
                                                 partition.DisplayName(table.partitioned()),
                                                 "': ", what));
        };
        auto file = MappedFile::Open(path);
        if (!file.ok()) {
          problem(file.status().message());
          continue;
        }
        report.bytes += (*file)->size();
        if ((*file)->size() != info.size) {
          problem(StrCat("segment '", path, "' has ", (*file)->size(),
                               " bytes, the manifest says ", info.size));
          continue;
        }
        if (Checksum64((*file)->data(), (*file)->size()) != info.checksum) {
          problem(StrCat("segment '", path, "' checksum does not match the manifest"));
          continue;
        }
        auto seg = Segment::Open(*file);
        if (!seg.ok()) {
          problem(seg.status().message());
          continue;
        }
        if (!((*seg)->schema() == schema)) {
          problem(StrCat("segment '", path, "' schema differs from the table's"));
          continue;
        }
        if ((*seg)->row_count() != info.row_count) {
          problem(StrCat("segment '", path, "' has ", (*seg)->row_count(),
                               " rows, the manifest says ", info.row_count));
          continue;
        }
        report.rows += info.row_count;
        report.blocks += static_cast<int64_t>((*seg)->blocks().size());
        // Decode everything, check statistics, order, keys and partition values.
        bool bad = false;
        std::vector<Column> columns;
        for (size_t c = 0; c < schema.fields.size() && !bad; ++c) {
          Column col(schema.fields[c].type);
          for (size_t b = 0; b < (*seg)->blocks().size(); ++b) {
            RowIndex before = col.size();
            absl::Status s = (*seg)->ReadChunk(b, c, &col);
            if (!s.ok()) {
              problem(s.message());
              bad = true;
              break;
            }
            ChunkStats actual = ComputeStats(col, before, col.size());
            if (!SameStats(actual, (*seg)->blocks()[b].columns[c].stats)) {
              problem(StrCat("segment '", path, "' block ", b, " column '",
                                   schema.fields[c].name, "': statistics do not match the data"));
              bad = true;
              break;
            }
            if (!schema.fields[c].nullable && actual.null_count > 0) {
              problem(StrCat("segment '", path, "' block ", b, " column '",
                                   schema.fields[c].name, "' is NOT NULL but holds NULLs"));
              bad = true;
              break;
            }
          }
          columns.push_back(std::move(col));
        }
        if (bad) continue;
        std::vector<Column> key_cols;
        for (int k : schema.primary_key) key_cols.push_back(columns[k]);
        for (RowIndex r = 0; r < info.row_count && !bad; ++r) {
          if (r > 0 && CompareKeys(key_cols, r - 1, key_cols, r, key_positions) >= 0) {
            problem(StrCat("segment '", path, "' rows ", r - 1, " and ", r,
                                 " are not in strictly ascending primary-key order at key ",
                                 KeyText(schema, key_cols, key_positions, r)));
            bad = true;
          }
          key.clear();
          AppendKeyBytes(key_cols, key_positions, r, &key);
          auto [it, inserted] = keys_seen.emplace(key, path);
          if (!inserted && !bad) {
            problem(StrCat("duplicate primary key ", KeyText(schema, key_cols, key_positions, r),
                                 " in '", it->second, "' and '", path, "'"));
            bad = true;
          }
          if (schema.partition_column.has_value() && !bad) {
            const Column& pc = columns[*schema.partition_column];
            std::optional<std::string> v;
            if (pc.IsValid(r)) v = ValueText(pc, r);
            if (v != partition.value) {
              problem(StrCat("segment '", path, "' row ", r, " has partition value '",
                                   v.value_or("NULL"), "'"));
              bad = true;
            }
          }
        }
        if (bad || !info.index.has_value()) continue;
        // The index file: checksum, structure, and the bytes an index built
        // from the rows just read would have (building is deterministic).
        std::string index_path = JoinPath(dir, info.index->path);
        auto index_file = MappedFile::Open(index_path);
        if (!index_file.ok()) {
          problem(index_file.status().message());
          continue;
        }
        report.bytes += (*index_file)->size();
        if ((*index_file)->size() != info.index->size) {
          problem(StrCat("index file '", index_path, "' has ", (*index_file)->size(),
                         " bytes, the manifest says ", info.index->size));
          continue;
        }
        auto index = IndexFile::Open(*index_file, info.index->checksum, schema, info.row_count,
                                     info.checksum);
        if (!index.ok()) {
          problem(index.status().message());
          continue;
        }
        auto rebuilt = BuildIndexFile(schema, columns, info.checksum);
        if (!rebuilt.ok()) {
          problem(rebuilt.status().message());
          continue;
        }
        absl::Status same = CompareIndexFiles((*index_file)->view(), *rebuilt, index_path);
        if (!same.ok()) problem(same.message());
      }
    }
  }
  return report;
}

}  // namespace retl
