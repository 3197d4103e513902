#include "format/metadata.h"
#include "format/strings.h"

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/file_util.h"

namespace retl {

namespace {
template <typename T>
void PutLE(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}
template <typename T>
T GetLE(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

std::string EncodeHeader(std::string_view magic) {
  std::string out(magic);
  PutLE<uint32_t>(&out, kFormatVersion);
  PutLE<uint32_t>(&out, 0);  // flags: none defined in version 1
  return out;
}

std::string EncodeTail(std::string_view magic, std::string_view body) {
  std::string out;
  PutLE<uint64_t>(&out, body.size());
  PutLE<uint64_t>(&out, Checksum64(body));
  out.append(magic);
  return out;
}

absl::StatusOr<std::string_view> LocateBody(std::string_view file, std::string_view magic,
                                            std::string_view kind, const std::string& path,
                                            uint64_t* body_offset) {
  auto loss = [&](uint64_t offset, std::string_view what) {
    return absl::DataLossError(StrCat(kind, " '", path, "' is damaged at offset ", offset,
                                            ": ", what));
  };
  if (file.size() < kHeaderSize + kTailSize) {
    return loss(0, StrCat("file has ", file.size(), " bytes, too short to be a ", kind,
                                " file (truncated?)"));
  }
  if (file.substr(0, 8) != magic) return loss(0, StrCat("bad magic number, not a ", kind, " file"));
  uint32_t version = GetLE<uint32_t>(file.data() + 8);
  uint32_t flags = GetLE<uint32_t>(file.data() + 12);
  if (version == 0) return loss(8, "format version 0");
  if (version > static_cast<uint32_t>(kFormatVersion)) {
    return absl::UnimplementedError(StrCat(
        kind, " '", path, "' has format version ", version, "; this reader supports versions 1..",
        kFormatVersion, ": upgrade rETL DB to read it"));
  }
  if (flags != 0) {
    return absl::UnimplementedError(
        StrCat(kind, " '", path, "' has unknown header flags ", flags));
  }
  const uint64_t tail_at = file.size() - kTailSize;
  if (file.substr(tail_at + 16, 8) != magic) {
    return loss(tail_at + 16, "bad magic number in the tail (truncated or damaged file)");
  }
  uint64_t length = GetLE<uint64_t>(file.data() + tail_at);
  uint64_t checksum = GetLE<uint64_t>(file.data() + tail_at + 8);
  if (length > tail_at - kHeaderSize) {
    return loss(tail_at, StrCat("metadata length ", length, " exceeds the file"));
  }
  *body_offset = tail_at - length;
  std::string_view body = file.substr(*body_offset, length);
  if (Checksum64(body) != checksum) {
    return loss(*body_offset, "metadata checksum mismatch");
  }
  return body;
}

template <typename T>
std::string SerializeThrift(const T& value) {
  using apache::thrift::protocol::TCompactProtocolT;
  using apache::thrift::transport::TMemoryBuffer;
  auto buffer = std::make_shared<TMemoryBuffer>();
  TCompactProtocolT<TMemoryBuffer> protocol(buffer);
  value.write(&protocol);
  return buffer->getBufferAsString();
}

template <typename T>
absl::Status DeserializeThrift(std::string_view bytes, T* value, std::string_view what) {
  using apache::thrift::protocol::TCompactProtocolT;
  using apache::thrift::transport::TMemoryBuffer;
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::DataLossError(StrCat(what, ": metadata larger than 2 GiB"));
  }
  try {
    auto config = std::make_shared<apache::thrift::TConfiguration>(INT_MAX);
    auto buffer = std::make_shared<TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(bytes.size()), TMemoryBuffer::OBSERVE, config);
    // No string or list can be longer than the bytes that encode it: these
    // limits stop a damaged length from allocating gigabytes.
    int32_t limit = static_cast<int32_t>(bytes.size()) + 1;
    TCompactProtocolT<TMemoryBuffer> protocol(buffer, limit, limit);
    value->read(&protocol);
    if (buffer->available_read() != 0) {
      return absl::DataLossError(
          StrCat(what, ": ", buffer->available_read(), " stray bytes after the metadata"));
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(StrCat(what, ": undecodable metadata (", e.what(), ")"));
  }
  return absl::OkStatus();
}

template std::string SerializeThrift(const fmt::SegmentFooter&);
template std::string SerializeThrift(const fmt::Manifest&);
template absl::Status DeserializeThrift(std::string_view, fmt::SegmentFooter*, std::string_view);
template absl::Status DeserializeThrift(std::string_view, fmt::Manifest*, std::string_view);
template std::string SerializeThrift(const fmt::IndexFooter&);
template absl::Status DeserializeThrift(std::string_view, fmt::IndexFooter*, std::string_view);

fmt::TableSchema SchemaToThrift(const Schema& schema) {
  fmt::TableSchema out;
  for (const Field& f : schema.fields) {
    fmt::Field tf;
    tf.name = f.name;
    tf.type = static_cast<fmt::Type::type>(f.type.id);
    if (f.type.id == TypeId::kDecimal) {
      tf.__set_precision(f.type.precision);
      tf.__set_scale(f.type.scale);
    }
    tf.nullable = f.nullable;
    out.fields.push_back(std::move(tf));
  }
  out.primary_key.assign(schema.primary_key.begin(), schema.primary_key.end());
  if (schema.partition_column.has_value()) out.__set_partition_column(*schema.partition_column);
  if (!schema.indexes.empty()) {
    std::vector<fmt::IndexDef> indexes;
    for (const IndexDef& index : schema.indexes) {
      fmt::IndexDef ti;
      ti.name = index.name;
      ti.columns.assign(index.columns.begin(), index.columns.end());
      indexes.push_back(std::move(ti));
    }
    out.__set_indexes(std::move(indexes));
  }
  return out;
}

absl::StatusOr<Schema> SchemaFromThrift(const fmt::TableSchema& in) {
  Schema schema;
  for (const fmt::Field& tf : in.fields) {
    Field f;
    f.name = tf.name;
    int id = static_cast<int>(tf.type);
    if (id < static_cast<int>(TypeId::kBoolean) || id > static_cast<int>(TypeId::kTimestamp)) {
      return absl::UnimplementedError(StrCat("column '", tf.name, "' has unknown type id ",
                                                   id, ": written by a newer rETL DB?"));
    }
    f.type.id = static_cast<TypeId>(id);
    if (f.type.id == TypeId::kDecimal) {
      f.type.precision = tf.__isset.precision ? tf.precision : 0;
      f.type.scale = tf.__isset.scale ? tf.scale : 0;
    }
    f.nullable = tf.nullable;
    schema.fields.push_back(std::move(f));
  }
  schema.primary_key.assign(in.primary_key.begin(), in.primary_key.end());
  if (in.__isset.partition_column) schema.partition_column = in.partition_column;
  for (const fmt::IndexDef& ti : in.indexes) {
    schema.indexes.push_back(IndexDef{ti.name, std::vector<int>(ti.columns.begin(), ti.columns.end())});
  }
  absl::Status s = schema.Validate();
  if (!s.ok()) return absl::DataLossError(StrCat("invalid schema: ", s.message()));
  return schema;
}

absl::Status CheckRequiredFeatures(const std::vector<std::string>& features,
                                   std::string_view kind, const std::string& path) {
  if (features.empty()) return absl::OkStatus();
  return absl::UnimplementedError(StrCat(
      kind, " '", path, "' requires features this reader does not know: ",
      absl::StrJoin(features, ", "), "; upgrade rETL DB to read it"));
}

}  // namespace retl
