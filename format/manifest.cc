#include "format/manifest.h"
#include "format/strings.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "format/file_util.h"
#include "format/metadata.h"

namespace retl {

// ---- catalog.h helpers ---------------------------------------------------------

RowIndex PartitionInfo::row_count() const {
  RowIndex n = 0;
  for (const SegmentInfo& s : segments) n += s.row_count;
  return n;
}

uint64_t PartitionInfo::bytes() const {
  uint64_t n = 0;
  for (const SegmentInfo& s : segments) n += s.size;
  return n;
}

std::string PartitionInfo::DisplayName(bool partitioned) const {
  if (value.has_value()) return *value;
  return partitioned ? "(NULL)" : "(default)";
}

RowIndex TableInfo::row_count() const {
  RowIndex n = 0;
  for (const PartitionInfo& p : partitions) n += p.row_count();
  return n;
}

uint64_t TableInfo::bytes() const {
  uint64_t n = 0;
  for (const PartitionInfo& p : partitions) n += p.bytes();
  return n;
}

const PartitionInfo* TableInfo::FindPartition(const std::optional<std::string>& value) const {
  for (const PartitionInfo& p : partitions) {
    if (p.value == value) return &p;
  }
  return nullptr;
}

const TableInfo* Manifest::FindTable(std::string_view name) const {
  for (const TableInfo& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TableInfo* Manifest::FindTable(std::string_view name) {
  for (TableInfo& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// ---- Paths -------------------------------------------------------------------

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return StrCat(dir, name);
  return StrCat(dir, "/", name);
}

std::string ManifestPath(int64_t version) {
  return absl::StrFormat("%s/%020d%s", kManifestDir, version, kManifestSuffix);
}

std::string SegmentPath(int64_t version, int seq) {
  return absl::StrFormat("%s/%020d-%06d%s", kDataDir, version, seq, kSegmentSuffix);
}

std::string IndexPath(int64_t version, int seq) {
  return absl::StrFormat("%s/%020d-%06d%s", kDataDir, version, seq, kIndexSuffix);
}

namespace {
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}
}  // namespace

int64_t VersionOfFileName(std::string_view name) {
  if (name.ends_with(kTempSuffix)) name.remove_suffix(kTempSuffix.size());
  if (name.size() < 20 || !AllDigits(name.substr(0, 20))) return -1;
  std::string_view rest = name.substr(20);
  bool manifest = rest == kManifestSuffix;
  bool segment = rest.size() == 7 + kSegmentSuffix.size() && rest[0] == '-' &&
                 AllDigits(rest.substr(1, 6)) &&
                 (rest.substr(7) == kSegmentSuffix || rest.substr(7) == kIndexSuffix);
  int64_t v = 0;
  if (!(manifest || segment) || !absl::SimpleAtoi(ToAbsl(name.substr(0, 20)), &v)) return -1;
  return v;
}

bool IsSegmentFileName(std::string_view name) {
  return VersionOfFileName(name) >= 0 && name.ends_with(kSegmentSuffix);
}

bool IsIndexFileName(std::string_view name) {
  return VersionOfFileName(name) >= 0 && name.ends_with(kIndexSuffix);
}

absl::Status ValidateTableName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128 && !absl::ascii_isdigit(name[0]);
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_');
  if (!ok) {
    return absl::InvalidArgumentError(StrCat(
        "invalid table name '", absl::CHexEscape(ToAbsl(name)),
        "': use 1 to 128 letters, digits and underscores, not starting with a digit"));
  }
  return absl::OkStatus();
}

// ---- Manifest encoding ---------------------------------------------------------

std::string EncodeManifest(const Manifest& m) {
  fmt::Manifest tm;
  tm.format_version = kFormatVersion;
  tm.version = m.info.version;
  tm.parent_version = m.info.parent_version;
  tm.commit_time_micros = m.info.commit_time_micros;
  tm.operation = m.info.operation;
  if (!m.info.message.empty()) tm.__set_message(m.info.message);
  if (!m.info.summary.empty()) tm.__set_summary(m.info.summary);
  tm.__set_created_by(m.info.created_by.empty() ? std::string(kCreatedBy) : m.info.created_by);
  if (!m.info.source.empty()) tm.__set_source(m.info.source);
  if (!m.info.inputs.empty()) {
    std::vector<fmt::InputFile> inputs;
    for (const InputFileInfo& in : m.info.inputs) {
      fmt::InputFile f;
      f.path = in.path;
      f.size = static_cast<int64_t>(in.size);
      f.checksum = static_cast<int64_t>(in.checksum);
      if (!in.table.empty()) f.__set_table_name(in.table);
      inputs.push_back(std::move(f));
    }
    tm.__set_inputs(std::move(inputs));
  }
  for (const TableInfo& t : m.tables) {
    fmt::TableEntry te;
    te.name = t.name;
    te.schema = SchemaToThrift(t.schema);
    te.created_version = t.created_version;
    te.modified_version = t.modified_version;
    for (const PartitionInfo& p : t.partitions) {
      fmt::PartitionEntry pe;
      if (p.value.has_value()) pe.__set_value(*p.value);
      for (const SegmentInfo& s : p.segments) {
        fmt::SegmentEntry se;
        se.path = s.path;
        se.size = static_cast<int64_t>(s.size);
        se.row_count = s.row_count;
        se.checksum = static_cast<int64_t>(s.checksum);
        se.created_version = s.created_version;
        if (s.index.has_value()) {
          fmt::IndexFileEntry ie;
          ie.path = s.index->path;
          ie.size = static_cast<int64_t>(s.index->size);
          ie.checksum = static_cast<int64_t>(s.index->checksum);
          ie.created_version = s.index->created_version;
          se.__set_index(std::move(ie));
        }
        pe.segments.push_back(std::move(se));
      }
      te.partitions.push_back(std::move(pe));
    }
    tm.tables.push_back(std::move(te));
  }
  std::string body = SerializeThrift(tm);
  return StrCat(EncodeHeader(kManifestMagic), body, EncodeTail(kManifestMagic, body));
}

absl::StatusOr<Manifest> DecodeManifest(std::string_view bytes, const std::string& path) {
  uint64_t body_offset = 0;
  RETL_ASSIGN_OR_RETURN(std::string_view body,
                        LocateBody(bytes, kManifestMagic, "manifest", path, &body_offset));
  auto loss = [&](const auto& what) {
    return absl::DataLossError(StrCat("manifest '", path, "' is invalid: ", what));
  };
  if (body_offset != kHeaderSize) {
    return loss(StrCat(body_offset - kHeaderSize, " stray bytes after the header"));
  }
  fmt::Manifest tm;
  RETL_RETURN_IF_ERROR(DeserializeThrift(body, &tm, StrCat("manifest '", path, "'")));
  if (tm.format_version < 1 || tm.format_version > kFormatVersion) {
    return absl::UnimplementedError(StrCat("manifest '", path, "' has format version ",
                                                 tm.format_version, "; upgrade rETL DB"));
  }
  RETL_RETURN_IF_ERROR(CheckRequiredFeatures(tm.required_features, "manifest", path));
  Manifest m;
  m.info.version = tm.version;
  m.info.parent_version = tm.parent_version;
  m.info.commit_time_micros = tm.commit_time_micros;
  m.info.operation = tm.operation;
  m.info.message = tm.message;
  m.info.summary = tm.summary;
  m.info.created_by = tm.created_by;
  m.info.source = tm.source;
  for (const fmt::InputFile& f : tm.inputs) {
    if (f.size < 0) return loss(StrCat("input file '", f.path, "' has size ", f.size));
    m.info.inputs.push_back(InputFileInfo{f.path, static_cast<uint64_t>(f.size),
                                          static_cast<uint64_t>(f.checksum), f.table_name});
  }
  if (tm.version < 1 || tm.parent_version < 0 || tm.parent_version >= tm.version) {
    return loss(StrCat("version ", tm.version, " with parent ", tm.parent_version));
  }
  std::set<std::string> table_names, paths;
  for (const fmt::TableEntry& te : tm.tables) {
    TableInfo t;
    t.name = te.name;
    if (!ValidateTableName(t.name).ok() || !table_names.insert(t.name).second) {
      return loss(StrCat("bad or duplicate table name '", absl::CHexEscape(ToAbsl(t.name)), "'"));
    }
    auto schema = SchemaFromThrift(te.schema);
    if (!schema.ok()) {
      return Annotate(schema.status(), StrCat("manifest '", path, "' table '", t.name, "': "));
    }
    t.schema = std::move(schema).value();
    t.created_version = te.created_version;
    t.modified_version = te.modified_version;
    if (t.created_version < 1 || t.created_version > m.info.version ||
        t.modified_version < t.created_version || t.modified_version > m.info.version) {
      return loss(StrCat("table '", t.name, "' has bad created/modified versions"));
    }
    std::set<std::optional<std::string>> values;
    for (const fmt::PartitionEntry& pe : te.partitions) {
      PartitionInfo p;
      if (pe.__isset.value) p.value = pe.value;
      if (!t.partitioned() && p.value.has_value()) {
        return loss(StrCat("table '", t.name, "' is not partitioned but has partition '",
                                 *p.value, "'"));
      }
      if (!values.insert(p.value).second) {
        return loss(StrCat("table '", t.name, "' lists partition '",
                                 p.DisplayName(t.partitioned()), "' twice"));
      }
      for (const fmt::SegmentEntry& se : pe.segments) {
        SegmentInfo s;
        s.path = se.path;
        s.size = static_cast<uint64_t>(se.size);
        s.row_count = se.row_count;
        s.checksum = static_cast<uint64_t>(se.checksum);
        s.created_version = se.created_version;
        std::string_view name = std::string_view(s.path).substr(
            std::min(s.path.size(), kDataDir.size() + 1));
        if (!std::string_view(s.path).starts_with(StrCat(kDataDir, "/")) ||
            !IsSegmentFileName(name) || VersionOfFileName(name) != s.created_version ||
            se.size < static_cast<int64_t>(kHeaderSize + kTailSize) || se.row_count < 0 ||
            s.created_version < 1 || s.created_version > m.info.version ||
            !paths.insert(s.path).second) {
          return loss(StrCat("table '", t.name, "' has a bad segment entry '",
                                   absl::CHexEscape(ToAbsl(s.path)), "'"));
        }
        if (se.__isset.index) {
          IndexFileInfo ix;
          ix.path = se.index.path;
          ix.size = static_cast<uint64_t>(se.index.size);
          ix.checksum = static_cast<uint64_t>(se.index.checksum);
          ix.created_version = se.index.created_version;
          std::string_view iname = std::string_view(ix.path).substr(
              std::min(ix.path.size(), kDataDir.size() + 1));
          if (!std::string_view(ix.path).starts_with(StrCat(kDataDir, "/")) ||
              !IsIndexFileName(iname) || VersionOfFileName(iname) != ix.created_version ||
              se.index.size < static_cast<int64_t>(kHeaderSize + kTailSize) ||
              ix.created_version < s.created_version || ix.created_version > m.info.version ||
              !paths.insert(ix.path).second) {
            return loss(StrCat("table '", t.name, "' has a bad index entry '",
                               absl::CHexEscape(ToAbsl(ix.path)), "' for segment '", s.path, "'"));
          }
          s.index = std::move(ix);
        }
        p.segments.push_back(std::move(s));
      }
      if (!t.partitions.empty() && !(t.partitions.back().value < p.value)) {
        return loss(StrCat("table '", t.name, "' partitions are not in ascending order"));
      }
      t.partitions.push_back(std::move(p));
    }
    if (!m.tables.empty() && !(m.tables.back().name < t.name)) {
      return loss(StrCat("tables are not in ascending order of name at '", t.name, "'"));
    }
    m.tables.push_back(std::move(t));
  }
  return m;
}

// ---- CURRENT and listing -----------------------------------------------------------

absl::StatusOr<int64_t> ReadCurrent(const std::string& dir) {
  std::string path = JoinPath(dir, kCurrentFile);
  auto content = ReadFile(path);
  if (!content.ok()) {
    if (absl::IsNotFound(content.status())) {
      if (!PathExists(dir)) {
        return absl::NotFoundError(StrCat("dataset directory '", dir, "' does not exist"));
      }
      return absl::FailedPreconditionError(StrCat(
          "'", dir, "' is not a rETL dataset (no CURRENT file); create one with: retl-build init ",
          dir));
    }
    return content.status();
  }
  int64_t version = 0;
  if (content->size() != 21 || content->back() != '\n' ||
      !std::all_of(content->begin(), content->end() - 1, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(absl::string_view(*content).substr(0, 20), &version) || version < 1) {
    return absl::DataLossError(StrCat("'", path,
                                            "' is damaged: expected 20 digits and a newline"));
  }
  return version;
}

absl::Status WriteCurrent(const std::string& dir, int64_t version) {
  std::string tmp = JoinPath(dir, StrCat(kCurrentFile, kTempSuffix));
  RETL_RETURN_IF_ERROR(WriteFileDurably(tmp, absl::StrFormat("%020d\n", version)));
  std::string current = JoinPath(dir, kCurrentFile);
  if (::rename(tmp.c_str(), current.c_str()) != 0) {
    return ErrnoStatus("cannot rename to", current, errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<Manifest> ReadManifest(const std::string& dir, int64_t version) {
  std::string path = JoinPath(dir, ManifestPath(version));
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) {
      return absl::NotFoundError(StrCat("version ", version, " of '", dir,
                                              "' is not available (no file '", path, "')"));
    }
    return bytes.status();
  }
  RETL_ASSIGN_OR_RETURN(Manifest m, DecodeManifest(*bytes, path));
  if (m.info.version != version) {
    return absl::DataLossError(StrCat("manifest '", path, "' holds version ",
                                            m.info.version, ", expected ", version));
  }
  return m;
}

absl::StatusOr<std::vector<int64_t>> ListManifestVersions(const std::string& dir) {
  RETL_ASSIGN_OR_RETURN(auto names, ListDirectory(JoinPath(dir, kManifestDir)));
  std::vector<int64_t> versions;
  for (const std::string& name : names) {
    if (std::string_view(name).ends_with(kManifestSuffix)) {
      int64_t v = VersionOfFileName(name);
      if (v > 0) versions.push_back(v);
    }
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace retl
