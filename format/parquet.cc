#include "format/parquet.h"

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include "format/file_util.h"
#include "format/input_util.h"
#include "format/parallel.h"
#include "format/strings.h"
#include "format/text.h"
#include "retl/writer.h"

namespace retl {

namespace {

// ---------------------------------------------------------------------------
// Thrift compact protocol (the encoding of Parquet's footer and page headers).
// A struct is a sequence of fields, each a header byte (delta of the field id
// in the high nibble, or 0 and a zigzag varint id; the type in the low
// nibble) and a value; type 0 ends the struct. Integers are zigzag varints,
// strings a varint length and the bytes, lists a header byte (size in the
// high nibble, or 15 and a varint) and the elements.

enum CompactType : uint8_t {
  kStop = 0, kTrue = 1, kFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6, kDouble = 7,
  kBinary = 8, kList = 9, kSet = 10, kMap = 11, kStruct = 12,
};

class CompactReader {
 public:
  CompactReader(const uint8_t* p, size_t n) : p_(p), begin_(p), end_(p + n) {}

  bool failed() const { return failed_; }
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  // Why the input is malformed (valid when failed()).
  const std::string& error() const { return error_; }

  // Calls fn(id, type) for each field of the struct that starts here; fn
  // must read the value (one of the Read* below, or Skip(type)).
  template <typename Fn>
  void ReadStruct(Fn&& fn) {
    if (++depth_ > kMaxDepth) return Fail("structs nested too deeply");
    int16_t last = 0;
    while (!failed_) {
      const uint8_t header = Byte();
      if (failed_) break;
      const uint8_t type = header & 0x0f;
      if (type == kStop) break;
      const int delta = header >> 4;
      const int16_t id = delta != 0 ? static_cast<int16_t>(last + delta)
                                    : static_cast<int16_t>(ZigZag(Varint()));
      last = id;
      fn(id, type);
    }
    --depth_;
  }
  int64_t ReadInt(uint8_t type) {
    if (type == kByte) return static_cast<int8_t>(Byte());
    if (type != kI16 && type != kI32 && type != kI64) return Mismatch();
    return ZigZag(Varint());
  }
  int32_t ReadI32(uint8_t type) {
    const int64_t v = ReadInt(type);
    if (v < INT32_MIN || v > INT32_MAX) Fail("an i32 field out of range");
    return static_cast<int32_t>(v);
  }
  bool ReadBool(uint8_t type) {
    if (type == kTrue) return true;
    if (type != kFalse) Mismatch();
    return false;
  }
  std::string_view ReadBinary(uint8_t type) {
    if (type != kBinary) {
      Mismatch();
      return {};
    }
    const uint64_t n = Varint();
    if (failed_) return {};
    if (n > static_cast<uint64_t>(end_ - p_)) {
      Fail("a string runs past the end");
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  // Calls fn(element_type) for each element of the list that starts here.
  template <typename Fn>
  void ReadList(uint8_t type, Fn&& fn) {
    if (type != kList && type != kSet) {
      Mismatch();
      return;
    }
    const uint8_t header = Byte();
    uint64_t n = header >> 4;
    if (n == 15) n = Varint();
    const uint8_t elem = header & 0x0f;
    // Each element takes at least one byte (booleans included).
    if (n > static_cast<uint64_t>(end_ - p_)) return Fail("a list is longer than its input");
    for (uint64_t i = 0; i < n && !failed_; ++i) fn(ElementType(elem));
  }
  void Skip(uint8_t type) {
    if (++depth_ > kMaxDepth) return Fail("values nested too deeply");
    switch (type) {
      case kTrue:
      case kFalse: break;
      case kByte: Byte(); break;
      case kI16:
      case kI32:
      case kI64: Varint(); break;
      case kDouble: Advance(8); break;
      case kBinary: ReadBinary(kBinary); break;
      case kList:
      case kSet: ReadList(type, [&](uint8_t elem) { Skip(elem); }); break;
      case kMap: {
        const uint64_t n = Varint();
        if (n == 0) break;
        const uint8_t kinds = Byte();
        if (n > static_cast<uint64_t>(end_ - p_)) {
          Fail("a map is longer than its input");
          break;
        }
        for (uint64_t i = 0; i < n && !failed_; ++i) {
          Skip(ElementType(kinds >> 4));
          Skip(ElementType(kinds & 0x0f));
        }
        break;
      }
      case kStruct: ReadStruct([&](int16_t, uint8_t t) { Skip(t); }); break;
      default: Fail(StrCat("unknown value type ", type)); break;
    }
    --depth_;
  }

 private:
  static constexpr int kMaxDepth = 32;
  // In lists and maps a boolean is one byte (1 true, else false): read it
  // as a byte.
  static uint8_t ElementType(uint8_t t) { return t == kTrue || t == kFalse ? uint8_t{kByte} : t; }
  void Fail(std::string why) {
    if (!failed_) error_ = std::move(why);
    failed_ = true;
    p_ = end_;
  }
  int64_t Mismatch() {
    Fail("a field has an unexpected type");
    return 0;
  }
  uint8_t Byte() {
    if (p_ >= end_) {
      Fail("unexpected end");
      return 0;
    }
    return *p_++;
  }
  void Advance(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) return Fail("unexpected end");
    p_ += n;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      const uint8_t b = Byte();
      if (failed_) return 0;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("a varint is too long");
    return 0;
  }
  static int64_t ZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  int depth_ = 0;
  bool failed_ = false;
  std::string error_;
};

// ---------------------------------------------------------------------------
// The parts of Parquet's metadata (parquet.thrift in the Apache Parquet
// format repository) that we read; field ids in comments.

enum PhysicalKind : int {
  kPqBoolean = 0, kPqInt32 = 1, kPqInt64 = 2, kPqInt96 = 3, kPqFloat = 4, kPqDouble = 5,
  kPqByteArray = 6, kPqFixed = 7,
};
const char* PhysicalName(int t) {
  static const char* kNames[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                                 "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t < 8 ? kNames[t] : "unknown";
}

// ConvertedType values.
enum Converted : int {
  kCvUtf8 = 0, kCvMap = 1, kCvMapKeyValue = 2, kCvList = 3, kCvEnum = 4, kCvDecimal = 5,
  kCvDate = 6, kCvTimeMillis = 7, kCvTimeMicros = 8, kCvTimestampMillis = 9,
  kCvTimestampMicros = 10, kCvUint8 = 11, kCvUint16 = 12, kCvUint32 = 13, kCvUint64 = 14,
  kCvInt8 = 15, kCvInt16 = 16, kCvInt32 = 17, kCvInt64 = 18, kCvJson = 19, kCvBson = 20,
  kCvInterval = 21,
};

// LogicalType union members (the id of the field that is set).
enum Logical : int {
  kLgNone = 0, kLgString = 1, kLgMap = 2, kLgList = 3, kLgEnum = 4, kLgDecimal = 5, kLgDate = 6,
  kLgTime = 7, kLgTimestamp = 8, kLgInteger = 10, kLgUnknown = 11, kLgJson = 12, kLgBson = 13,
  kLgUuid = 14, kLgFloat16 = 15,
};
enum TimeUnit : int { kMillis = 1, kMicros = 2, kNanos = 3 };

struct LogicalType {
  int kind = kLgNone;
  int scale = 0, precision = 0;  // DECIMAL
  int unit = 0;                  // TIME, TIMESTAMP
  int bit_width = 0;             // INTEGER
  bool is_signed = true;
};

struct SchemaElement {
  int type = -1;         // 1: physical type; -1 for a group
  int type_length = 0;   // 2
  int repetition = -1;   // 3: 0 REQUIRED, 1 OPTIONAL, 2 REPEATED
  std::string name;      // 4
  int num_children = 0;  // 5
  int converted = -1;    // 6
  int scale = 0;         // 7
  int precision = 0;     // 8
  LogicalType logical;   // 10
};

struct ColumnMeta {
  int type = -1;                         // 1
  std::vector<std::string> path;         // 3
  int codec = 0;                         // 4
  int64_t num_values = 0;                // 5
  int64_t total_compressed_size = 0;     // 7
  int64_t data_page_offset = 0;          // 9
  int64_t dictionary_page_offset = 0;    // 11 (0: none)
};

struct ColumnChunkMeta {
  std::string file_path;  // 1: another file holds the data (not supported)
  bool has_meta = false;
  bool encrypted = false;  // 8 or 9
  ColumnMeta meta;         // 3
};

struct RowGroupMeta {
  std::vector<ColumnChunkMeta> columns;  // 1
  int64_t num_rows = 0;                  // 3
};

struct FileMeta {
  std::vector<SchemaElement> schema;  // 2
  int64_t num_rows = 0;               // 3
  std::vector<RowGroupMeta> row_groups;  // 4
  bool encrypted = false;             // 8: encryption algorithm (plaintext footer)
};

void ReadLogical(CompactReader* r, LogicalType* out) {
  r->ReadStruct([&](int16_t id, uint8_t t) {
    out->kind = id;
    if (t != kStruct) return r->Skip(t);
    switch (id) {
      case kLgDecimal:
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          if (f == 1) out->scale = r->ReadI32(ft);
          else if (f == 2) out->precision = r->ReadI32(ft);
          else r->Skip(ft);
        });
        break;
      case kLgTime:
      case kLgTimestamp:
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          if (f == 2 && ft == kStruct) {
            r->ReadStruct([&](int16_t unit, uint8_t ut) {
              out->unit = unit;
              r->Skip(ut);
            });
          } else {
            r->Skip(ft);
          }
        });
        break;
      case kLgInteger:
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          if (f == 1) out->bit_width = static_cast<int>(r->ReadInt(ft));
          else if (f == 2) out->is_signed = r->ReadBool(ft);
          else r->Skip(ft);
        });
        break;
      default: r->Skip(t); break;
    }
  });
}

void ReadSchemaElement(CompactReader* r, SchemaElement* e) {
  r->ReadStruct([&](int16_t id, uint8_t t) {
    switch (id) {
      case 1: e->type = r->ReadI32(t); break;
      case 2: e->type_length = r->ReadI32(t); break;
      case 3: e->repetition = r->ReadI32(t); break;
      case 4: e->name = std::string(r->ReadBinary(t)); break;
      case 5: e->num_children = r->ReadI32(t); break;
      case 6: e->converted = r->ReadI32(t); break;
      case 7: e->scale = r->ReadI32(t); break;
      case 8: e->precision = r->ReadI32(t); break;
      case 10:
        if (t == kStruct) ReadLogical(r, &e->logical); else r->Skip(t);
        break;
      default: r->Skip(t); break;
    }
  });
}

void ReadColumnMeta(CompactReader* r, ColumnMeta* m) {
  r->ReadStruct([&](int16_t id, uint8_t t) {
    switch (id) {
      case 1: m->type = r->ReadI32(t); break;
      case 3: r->ReadList(t, [&](uint8_t et) { m->path.emplace_back(r->ReadBinary(et)); }); break;
      case 4: m->codec = r->ReadI32(t); break;
      case 5: m->num_values = r->ReadInt(t); break;
      case 7: m->total_compressed_size = r->ReadInt(t); break;
      case 9: m->data_page_offset = r->ReadInt(t); break;
      case 11: m->dictionary_page_offset = r->ReadInt(t); break;
      default: r->Skip(t); break;
    }
  });
}

void ReadFileMeta(CompactReader* r, FileMeta* f) {
  r->ReadStruct([&](int16_t id, uint8_t t) {
    switch (id) {
      case 2:
        r->ReadList(t, [&](uint8_t et) {
          if (et != kStruct) return r->Skip(et);
          f->schema.emplace_back();
          ReadSchemaElement(r, &f->schema.back());
        });
        break;
      case 3: f->num_rows = r->ReadInt(t); break;
      case 4:
        r->ReadList(t, [&](uint8_t et) {
          if (et != kStruct) return r->Skip(et);
          RowGroupMeta& g = f->row_groups.emplace_back();
          r->ReadStruct([&](int16_t gid, uint8_t gt) {
            if (gid == 1) {
              r->ReadList(gt, [&](uint8_t ct) {
                if (ct != kStruct) return r->Skip(ct);
                ColumnChunkMeta& c = g.columns.emplace_back();
                r->ReadStruct([&](int16_t cid, uint8_t cft) {
                  if (cid == 1) {
                    c.file_path = std::string(r->ReadBinary(cft));
                  } else if (cid == 3 && cft == kStruct) {
                    c.has_meta = true;
                    ReadColumnMeta(r, &c.meta);
                  } else {
                    if (cid == 8 || cid == 9) c.encrypted = true;
                    r->Skip(cft);
                  }
                });
              });
            } else if (gid == 3) {
              g.num_rows = r->ReadInt(gt);
            } else {
              r->Skip(gt);
            }
          });
        });
        break;
      case 8: f->encrypted = true; r->Skip(t); break;
      default: r->Skip(t); break;
    }
  });
}

enum PageType : int { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct PageHeader {
  int type = -1;                  // 1
  int32_t uncompressed_size = 0;  // 2
  int32_t compressed_size = 0;    // 3
  std::optional<int32_t> crc;     // 4
  int32_t num_values = 0;         // 5.1, 7.1, 8.1
  int encoding = 0;               // 5.2, 7.2, 8.4
  int def_encoding = 3;           // 5.3 (RLE)
  int32_t num_nulls = 0;          // 8.2
  int32_t def_length = 0;         // 8.5
  int32_t rep_length = 0;         // 8.6
  bool is_compressed = true;      // 8.7
};

void ReadPageHeader(CompactReader* r, PageHeader* h) {
  r->ReadStruct([&](int16_t id, uint8_t t) {
    switch (id) {
      case 1: h->type = r->ReadI32(t); break;
      case 2: h->uncompressed_size = r->ReadI32(t); break;
      case 3: h->compressed_size = r->ReadI32(t); break;
      case 4: h->crc = r->ReadI32(t); break;
      case 5:
        if (t != kStruct) return r->Skip(t);
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          switch (f) {
            case 1: h->num_values = r->ReadI32(ft); break;
            case 2: h->encoding = r->ReadI32(ft); break;
            case 3: h->def_encoding = r->ReadI32(ft); break;
            default: r->Skip(ft); break;
          }
        });
        break;
      case 7:
        if (t != kStruct) return r->Skip(t);
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          switch (f) {
            case 1: h->num_values = r->ReadI32(ft); break;
            case 2: h->encoding = r->ReadI32(ft); break;
            default: r->Skip(ft); break;
          }
        });
        break;
      case 8:
        if (t != kStruct) return r->Skip(t);
        r->ReadStruct([&](int16_t f, uint8_t ft) {
          switch (f) {
            case 1: h->num_values = r->ReadI32(ft); break;
            case 2: h->num_nulls = r->ReadI32(ft); break;
            case 4: h->encoding = r->ReadI32(ft); break;
            case 5: h->def_length = r->ReadI32(ft); break;
            case 6: h->rep_length = r->ReadI32(ft); break;
            case 7: h->is_compressed = r->ReadBool(ft); break;
            default: r->Skip(ft); break;
          }
        });
        break;
      default: r->Skip(t); break;
    }
  });
}

// ---------------------------------------------------------------------------
// Columns of a file and how their values become rETL values.

// How a leaf's stored values become values of its natural rETL type.
enum class Conv : uint8_t {
  kBool, kInt, kUint8, kUint16, kUint32, kUint64, kTsMillis, kTsMicros, kTsNanos, kInt96,
  kDecimalInt, kFloat, kDouble, kString, kBinary, kDecimalBytes, kFloat16,
};

// A column of the file as the import sees it.
struct FileColumn {
  std::string name;
  int leaf = -1;  // index of its column chunk in every row group
  int physical = -1;
  int type_length = 0;
  bool optional = false;
  DataType type;  // natural rETL type
  Conv conv = Conv::kInt;
  std::string unsupported;  // why it cannot be imported, if it cannot
};

// The natural type of a leaf, or an explanation in `c->unsupported`.
void MapLeaf(const SchemaElement& e, FileColumn* c) {
  c->physical = e.type;
  c->type_length = e.type_length;
  const LogicalType& lg = e.logical;
  const int cv = e.converted;
  auto unsupported = [&](std::string why) { c->unsupported = std::move(why); };
  // DECIMAL from the logical type, else from the converted type.
  const bool decimal = lg.kind == kLgDecimal || (lg.kind == kLgNone && cv == kCvDecimal);
  const int precision = lg.kind == kLgDecimal ? lg.precision : e.precision;
  const int scale = lg.kind == kLgDecimal ? lg.scale : e.scale;
  auto set_decimal = [&](Conv conv) {
    if (precision < 1 || precision > kMaxDecimalPrecision || scale < 0 || scale > precision) {
      return unsupported(StrCat("DECIMAL(", precision, ",", scale,
                                ") is outside what rETL stores (precision 1 to 38)"));
    }
    c->type = DataType::Decimal(precision, scale);
    c->conv = conv;
  };
  if (lg.kind == kLgTime || cv == kCvTimeMillis || cv == kCvTimeMicros) {
    return unsupported("TIME values are not supported yet; export them as strings or integers");
  }
  if (cv == kCvInterval) return unsupported("INTERVAL values are not supported");
  switch (e.type) {
    case kPqBoolean:
      c->type = DataType::Of(TypeId::kBoolean);
      c->conv = Conv::kBool;
      return;
    case kPqInt32: {
      if (decimal) return set_decimal(Conv::kDecimalInt);
      if (lg.kind == kLgDate || cv == kCvDate) {
        c->type = DataType::Of(TypeId::kDate);
        c->conv = Conv::kInt;
        return;
      }
      int bits = 32;
      bool is_signed = true;
      if (lg.kind == kLgInteger) {
        bits = lg.bit_width, is_signed = lg.is_signed;
      } else if (cv >= kCvUint8 && cv <= kCvUint32) {
        bits = cv == kCvUint8 ? 8 : cv == kCvUint16 ? 16 : 32, is_signed = false;
      } else if (cv == kCvInt8 || cv == kCvInt16) {
        bits = cv == kCvInt8 ? 8 : 16;
      }
      if (is_signed) {
        c->type = DataType::Of(bits == 8 ? TypeId::kTinyInt : bits == 16 ? TypeId::kSmallInt : TypeId::kInt);
        c->conv = Conv::kInt;
      } else {
        c->type = DataType::Of(bits == 8 ? TypeId::kSmallInt : bits == 16 ? TypeId::kInt : TypeId::kBigInt);
        c->conv = bits == 8 ? Conv::kUint8 : bits == 16 ? Conv::kUint16 : Conv::kUint32;
      }
      return;
    }
    case kPqInt64:
      if (decimal) return set_decimal(Conv::kDecimalInt);
      if (lg.kind == kLgTimestamp || cv == kCvTimestampMillis || cv == kCvTimestampMicros) {
        const int unit = lg.kind == kLgTimestamp ? lg.unit : cv == kCvTimestampMillis ? kMillis : kMicros;
        c->type = DataType::Of(TypeId::kTimestamp);
        c->conv = unit == kMillis ? Conv::kTsMillis : unit == kNanos ? Conv::kTsNanos : Conv::kTsMicros;
        return;
      }
      if ((lg.kind == kLgInteger && !lg.is_signed) || cv == kCvUint64) {
        c->type = DataType::Decimal(20, 0);
        c->conv = Conv::kUint64;
        return;
      }
      c->type = DataType::Of(TypeId::kBigInt);
      c->conv = Conv::kInt;
      return;
    case kPqInt96:
      c->type = DataType::Of(TypeId::kTimestamp);
      c->conv = Conv::kInt96;
      return;
    case kPqFloat:
      c->type = DataType::Of(TypeId::kFloat);
      c->conv = Conv::kFloat;
      return;
    case kPqDouble:
      c->type = DataType::Of(TypeId::kDouble);
      c->conv = Conv::kDouble;
      return;
    case kPqByteArray:
    case kPqFixed:
      if (e.type == kPqFixed && (e.type_length < 1 || e.type_length > (1 << 20))) {
        return unsupported(StrCat("FIXED_LEN_BYTE_ARRAY has length ", e.type_length));
      }
      if (decimal) {
        set_decimal(Conv::kDecimalBytes);
        if (e.type == kPqFixed && e.type_length > 16 && c->unsupported.empty()) {
          unsupported(StrCat("a DECIMAL of ", e.type_length, " bytes is wider than 16 bytes"));
        }
        return;
      }
      if (e.type == kPqFixed && lg.kind == kLgFloat16) {
        if (e.type_length != 2) return unsupported("FLOAT16 must be 2 bytes long");
        c->type = DataType::Of(TypeId::kFloat);
        c->conv = Conv::kFloat16;
        return;
      }
      if (lg.kind == kLgString || lg.kind == kLgEnum || lg.kind == kLgJson ||
          (lg.kind == kLgNone && (cv == kCvUtf8 || cv == kCvEnum || cv == kCvJson))) {
        c->type = DataType::Of(TypeId::kString);
        c->conv = Conv::kString;
        return;
      }
      c->type = DataType::Of(TypeId::kBinary);
      c->conv = Conv::kBinary;
      return;
    default: return unsupported(StrCat("physical type ", e.type, " is unknown"));
  }
}

// A parsed, checked footer and the columns it describes.
struct ParquetFile {
  std::string path;
  std::shared_ptr<const MappedFile> file;
  FileMeta meta;
  std::vector<FileColumn> columns;  // top-level columns, in file order
  int leaves = 0;
  uint64_t footer_start = 0;  // where data ends

  absl::Status Damaged(std::string_view what) const {
    return absl::DataLossError(StrCat(path, ": ", what,
                                      " (the file is damaged or not a Parquet file)"));
  }
};

// Walks the schema tree from element `*i`, appending the top-level columns.
absl::Status WalkSchema(ParquetFile* f, size_t* i, bool top, std::string* nested_kind) {
  const std::vector<SchemaElement>& s = f->meta.schema;
  if (*i >= s.size()) return f->Damaged("the schema ends inside a group");
  const SchemaElement& e = s[(*i)++];
  if (e.num_children < 0 || e.num_children > static_cast<int>(s.size())) {
    return f->Damaged(StrCat("schema element '", e.name, "' has ", e.num_children, " children"));
  }
  FileColumn* c = nullptr;
  if (top) {
    c = &f->columns.emplace_back();
    c->name = e.name;
    c->leaf = f->leaves;
    c->optional = e.repetition != 0;
  }
  if (e.num_children > 0 || e.type < 0) {
    std::string kind = e.logical.kind == kLgList || e.converted == kCvList ? "LIST"
                       : e.logical.kind == kLgMap || e.converted == kCvMap ||
                               e.converted == kCvMapKeyValue
                           ? "MAP"
                           : "a group";
    for (int k = 0; k < e.num_children; ++k) {
      RETL_RETURN_IF_ERROR(WalkSchema(f, i, false, nested_kind));
    }
    if (c != nullptr) {
      c->unsupported = StrCat("it is nested (", kind,
                              "); rETL tables are flat: flatten it in the export or leave it out");
    }
    return absl::OkStatus();
  }
  ++f->leaves;
  if (c == nullptr) return absl::OkStatus();
  if (e.repetition == 2) {
    c->unsupported = "it is nested (a repeated field); rETL tables are flat: flatten it in the "
                     "export or leave it out";
    return absl::OkStatus();
  }
  MapLeaf(e, c);
  return absl::OkStatus();
}

constexpr uint64_t kMaxFooter = uint64_t{1} << 30;

absl::StatusOr<ParquetFile> OpenParquet(const std::string& path) {
  ParquetFile f;
  f.path = path;
  RETL_ASSIGN_OR_RETURN(f.file, MappedFile::Open(path));
  const uint8_t* data = f.file->data();
  const uint64_t size = f.file->size();
  if (size < 12 || std::memcmp(data, "PAR1", 4) != 0) {
    if (size >= 4 && std::memcmp(data, "PARE", 4) == 0) {
      return absl::InvalidArgumentError(StrCat(path, ": encrypted Parquet files are not supported"));
    }
    return absl::InvalidArgumentError(
        StrCat(path, ": not a Parquet file (", size < 12 ? "too short" : "no PAR1 magic at the start",
               "); to read it as CSV, pass --format csv"));
  }
  if (std::memcmp(data + size - 4, "PAR1", 4) != 0) {
    if (std::memcmp(data + size - 4, "PARE", 4) == 0) {
      return absl::InvalidArgumentError(StrCat(path, ": encrypted Parquet files are not supported"));
    }
    return f.Damaged("no PAR1 magic at the end: the file is truncated");
  }
  uint32_t footer_length;
  std::memcpy(&footer_length, data + size - 8, 4);
  if (footer_length > size - 12 || footer_length > kMaxFooter) {
    return f.Damaged(StrCat("footer length ", footer_length, " does not fit in ", size, " bytes"));
  }
  f.footer_start = size - 8 - footer_length;
  CompactReader r(data + f.footer_start, footer_length);
  ReadFileMeta(&r, &f.meta);
  if (r.failed()) return f.Damaged(StrCat("cannot read the footer: ", r.error()));
  if (f.meta.encrypted) {
    return absl::InvalidArgumentError(StrCat(path, ": encrypted Parquet files are not supported"));
  }
  const std::vector<SchemaElement>& s = f.meta.schema;
  if (s.empty()) return f.Damaged("the footer has no schema");
  if (s[0].num_children < 0 || static_cast<size_t>(s[0].num_children) >= s.size() + 1) {
    return f.Damaged("the schema's root has a bad number of children");
  }
  size_t i = 1;
  std::string nested;
  for (int k = 0; k < s[0].num_children; ++k) RETL_RETURN_IF_ERROR(WalkSchema(&f, &i, true, &nested));
  if (i != s.size()) return f.Damaged("the schema has elements outside its tree");
  int64_t rows = 0;
  for (size_t g = 0; g < f.meta.row_groups.size(); ++g) {
    const RowGroupMeta& rg = f.meta.row_groups[g];
    if (rg.columns.size() != static_cast<size_t>(f.leaves)) {
      return f.Damaged(StrCat("row group ", g, " has ", rg.columns.size(), " column chunks for ",
                              f.leaves, " columns"));
    }
    if (rg.num_rows < 0 || rg.num_rows > INT32_MAX * int64_t{64}) {
      return f.Damaged(StrCat("row group ", g, " has ", rg.num_rows, " rows"));
    }
    rows += rg.num_rows;
  }
  if (rows != f.meta.num_rows) {
    return f.Damaged(StrCat("the row groups hold ", rows, " rows, the footer says ", f.meta.num_rows));
  }
  return f;
}

// ---------------------------------------------------------------------------
// Decompression.

const char* CodecName(int codec) {
  static const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < 8 ? kNames[codec] : "unknown";
}

// Decompresses `in` into exactly `out->size()` bytes; false if it does not
// decompress to that size.
bool Decompress(int codec, std::string_view in, std::string* out) {
  char* dst = out->data();
  const size_t n = out->size();
  switch (codec) {
    case 0:
      if (in.size() != n) return false;
      std::memcpy(dst, in.data(), n);
      return true;
    case 1: {  // SNAPPY
      size_t len = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &len) || len != n) return false;
      return snappy::RawUncompress(in.data(), in.size(), dst);
    }
    case 2: {  // GZIP (a zlib stream is accepted too)
      z_stream z{};
      if (inflateInit2(&z, 15 + 32) != Z_OK) return false;
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(dst);
      z.avail_out = static_cast<uInt>(n);
      int rc = inflate(&z, Z_FINISH);
      const size_t produced = n - z.avail_out;
      inflateEnd(&z);
      return rc == Z_STREAM_END && produced == n;
    }
    case 4: {  // BROTLI
      size_t len = n;
      return BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &len,
                                     reinterpret_cast<uint8_t*>(dst)) == BROTLI_DECODER_RESULT_SUCCESS &&
             len == n;
    }
    case 5: {  // LZ4: Hadoop's framing (big-endian sizes before each block), else a raw block
      size_t ip = 0, op = 0;
      bool framed = true;
      while (ip < in.size() && framed) {
        if (in.size() - ip < 8) { framed = false; break; }
        auto be32 = [&](size_t at) {
          const auto* b = reinterpret_cast<const uint8_t*>(in.data() + at);
          return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
        };
        const uint32_t raw = be32(ip), packed = be32(ip + 4);
        ip += 8;
        if (raw > n - op || packed > in.size() - ip) { framed = false; break; }
        const int got = LZ4_decompress_safe(in.data() + ip, dst + op, static_cast<int>(packed),
                                            static_cast<int>(raw));
        if (got != static_cast<int>(raw)) { framed = false; break; }
        ip += packed, op += raw;
      }
      if (framed && op == n && ip == in.size()) return true;
      [[fallthrough]];
    }
    case 7: {  // LZ4_RAW
      if (in.size() > INT32_MAX || n > INT32_MAX) return false;
      return LZ4_decompress_safe(in.data(), dst, static_cast<int>(in.size()), static_cast<int>(n)) ==
             static_cast<int>(n);
    }
    case 6: {  // ZSTD
      const size_t got = ZSTD_decompress(dst, n, in.data(), in.size());
      return !ZSTD_isError(got) && got == n;
    }
    default: return false;
  }
}

// ---------------------------------------------------------------------------
// Value decoding.

// Reads bit-packed and RLE runs of the RLE/bit-packed hybrid encoding.
class HybridDecoder {
 public:
  HybridDecoder(const uint8_t* p, const uint8_t* end, int bit_width)
      : p_(p), end_(end), width_(bit_width) {}
  // Fills out[0..n); false if the input ends first or is malformed.
  bool Decode(uint32_t* out, size_t n) {
    size_t k = 0;
    while (k < n) {
      if (repeat_ > 0) {
        const size_t m = std::min<size_t>(repeat_, n - k);
        std::fill(out + k, out + k + m, value_);
        repeat_ -= m, k += m;
        continue;
      }
      if (packed_ > 0) {
        const size_t m = std::min<size_t>(packed_, n - k);
        for (size_t j = 0; j < m; ++j) out[k + j] = Unpack(packed_pos_++);
        packed_ -= m, k += m;
        continue;
      }
      uint64_t header;
      if (!Varint(&header)) return false;
      if (header & 1) {
        const uint64_t groups = header >> 1;
        const uint64_t bytes = groups * static_cast<uint64_t>(width_);
        if (groups == 0 || bytes > static_cast<uint64_t>(end_ - p_)) return false;
        packed_base_ = p_;
        packed_pos_ = 0;
        packed_ = groups * 8;
        p_ += bytes;
      } else {
        repeat_ = header >> 1;
        const int bytes = (width_ + 7) / 8;
        if (repeat_ == 0 || bytes > end_ - p_) return false;
        uint64_t v = 0;
        for (int b = 0; b < bytes; ++b) v |= static_cast<uint64_t>(p_[b]) << (8 * b);
        p_ += bytes;
        if (width_ < 32 && v >> width_ != 0) return false;
        value_ = static_cast<uint32_t>(v);
      }
    }
    return true;
  }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t b = *p_++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  uint32_t Unpack(uint64_t i) const {
    if (width_ == 0) return 0;
    const uint64_t bit = i * width_;
    uint64_t v = 0;
    const uint8_t* q = packed_base_ + bit / 8;
    // At most 5 bytes hold a value of up to 32 bits; the run's bytes were
    // checked to be in range, so stop at the run's end.
    const uint8_t* run_end = packed_base_ + ((i / 8) + 1) * width_;
    for (int b = 0; b < 5 && q + b < run_end; ++b) v |= static_cast<uint64_t>(q[b]) << (8 * b);
    v >>= bit % 8;
    return static_cast<uint32_t>(width_ == 32 ? v : v & ((uint64_t{1} << width_) - 1));
  }

  const uint8_t* p_;
  const uint8_t* end_;
  int width_;
  uint64_t repeat_ = 0;
  uint32_t value_ = 0;
  uint64_t packed_ = 0;
  uint64_t packed_pos_ = 0;
  const uint8_t* packed_base_ = nullptr;
};

// The values of one page (or the dictionary) in their stored form: integers
// (BOOLEAN, INT32, INT64; INT96 as microseconds), doubles (FLOAT, DOUBLE) or
// byte strings (views into page buffers or `arena`).
struct Values {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> bytes;
  std::vector<std::unique_ptr<std::string>> arena;  // DELTA_BYTE_ARRAY values
  void Clear() {
    ints.clear();
    doubles.clear();
    bytes.clear();
  }
};

enum Encoding : int {
  kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4, kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6, kDeltaByteArray = 7, kRleDictionary = 8, kByteStreamSplit = 9,
};
const char* EncodingName(int e) {
  static const char* kNames[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                 "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
                                 "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return e >= 0 && e < 10 ? kNames[e] : "unknown";
}

template <typename T>
T LoadLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

constexpr int64_t kJulianEpochDay = 2440588;  // 1970-01-01
constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value
// count, first value), then blocks of a min delta and bit-packed miniblocks.
// Appends the `want` values it must hold and sets *stop to where the encoded
// data ends.
bool DecodeDeltaBinary(const uint8_t* p, const uint8_t* end, int64_t want, std::vector<int64_t>* out,
                       const uint8_t** stop) {
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p >= end) return false;
      const uint8_t b = *p++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  auto zigzag = [](uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); };
  uint64_t block_size, miniblocks, total, first;
  if (!varint(&block_size) || !varint(&miniblocks) || !varint(&total) || !varint(&first)) return false;
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return false;
  }
  if (total != static_cast<uint64_t>(want)) return false;
  const uint64_t per_mini = block_size / miniblocks;
  out->reserve(out->size() + total);
  uint64_t value = static_cast<uint64_t>(zigzag(first));
  if (total > 0) out->push_back(static_cast<int64_t>(value));
  uint64_t done = total > 0 ? 1 : 0;
  std::vector<uint8_t> widths(miniblocks);
  while (done < total) {
    uint64_t min_delta_raw;
    if (!varint(&min_delta_raw)) return false;
    const uint64_t min_delta = static_cast<uint64_t>(zigzag(min_delta_raw));
    if (static_cast<uint64_t>(end - p) < miniblocks) return false;
    std::memcpy(widths.data(), p, miniblocks);
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && done < total; ++m) {
      const int w = widths[m];
      if (w > 64) return false;
      const uint64_t bytes = per_mini * w / 8;
      if (bytes > static_cast<uint64_t>(end - p)) return false;
      const uint64_t n = std::min(per_mini, total - done);
      for (uint64_t j = 0; j < n; ++j) {
        uint64_t delta = 0;
        if (w > 0) {
          const uint64_t bit = j * w;
          const uint8_t* q = p + bit / 8;
          const int shift = static_cast<int>(bit % 8);
          // Up to 9 bytes hold a 64-bit value at a bit offset.
          unsigned __int128 acc = 0;
          const int need = (shift + w + 7) / 8;
          for (int b = 0; b < need; ++b) acc |= static_cast<unsigned __int128>(q[b]) << (8 * b);
          delta = static_cast<uint64_t>(acc >> shift);
          if (w < 64) delta &= (uint64_t{1} << w) - 1;
        }
        value += min_delta + delta;  // wraps, as the encoding intends
        out->push_back(static_cast<int64_t>(value));
      }
      done += n;
      p += bytes;
    }
  }
  if (stop != nullptr) *stop = p;
  return true;
}

}  // namespace

namespace {

// Decodes the column chunks of one column, row group after row group, into
// a Column of the column's natural type.
class ChunkDecoder {
 public:
  ChunkDecoder(const ParquetFile& f, const FileColumn& c) : f_(f), c_(c) {}

  // Appends the rows of row group `g` (whose first row is `first_row` of the
  // file, 0-based) to `out`.
  absl::Status Decode(size_t g, int64_t first_row, Column* out);

 private:
  absl::Status Damaged(std::string_view what) const {
    return absl::DataLossError(StrCat(f_.path, ": column '", c_.name, "', row group ", g_, ": ", what,
                                      " (the file is damaged)"));
  }
  absl::Status ValueError(int64_t row_in_group, std::string_view what) const {
    return absl::InvalidArgumentError(StrCat(f_.path, ": row ", first_row_ + row_in_group + 1,
                                             " (row group ", g_, "): column '", c_.name, "': ", what));
  }
  absl::Status Unsupported(std::string_view what) const {
    return absl::InvalidArgumentError(StrCat(f_.path, ": column '", c_.name, "', row group ", g_,
                                             ": ", what));
  }
  // The page's data, decompressed unless stored plain (then a view of the file).
  absl::StatusOr<std::string_view> Body(std::string_view stored, int32_t size, bool compressed,
                                        std::string* buffer);
  absl::Status DecodePlain(const uint8_t* p, const uint8_t* end, int64_t n, Values* out);
  absl::Status DecodeValues(int encoding, const uint8_t* p, const uint8_t* end, int64_t n, Values* out);
  absl::Status DecodeByteArrays(int encoding, const uint8_t* p, const uint8_t* end, int64_t n,
                                Values* out);
  // Appends `n` rows: defs[j] == 0 is NULL (defs null: none is), the others
  // take the values in order.
  absl::Status Append(const uint32_t* defs, int64_t n, const Values& v, Column* out);

  const ParquetFile& f_;
  const FileColumn& c_;
  size_t g_ = 0;
  int64_t first_row_ = 0;
  int64_t rows_done_ = 0;  // of the row group
  Values dict_;
  bool have_dict_ = false;
  std::string dict_buffer_;
  std::string page_buffer_;
  Values values_;
  std::vector<uint32_t> defs_;
  std::vector<uint32_t> indices_;
};

absl::StatusOr<std::string_view> ChunkDecoder::Body(std::string_view stored, int32_t size,
                                                    bool compressed, std::string* buffer) {
  const int codec = compressed ? f_.meta.row_groups[g_].columns[c_.leaf].meta.codec : 0;
  if (codec == 0) {
    if (static_cast<int64_t>(stored.size()) != size) {
      return Damaged(StrCat("a page stores ", stored.size(), " bytes but says it has ", size));
    }
    return stored;
  }
  if (codec != 1 && codec != 2 && codec != 4 && codec != 5 && codec != 6 && codec != 7) {
    return Unsupported(StrCat("compression ", CodecName(codec), " (", codec,
                              ") is not supported; export with zstd, snappy, gzip, lz4 or brotli"));
  }
  buffer->resize(size);
  if (!Decompress(codec, stored, buffer)) {
    return Damaged(StrCat("a ", CodecName(codec), " page does not decompress to its ", size, " bytes"));
  }
  return std::string_view(*buffer);
}

absl::Status ChunkDecoder::DecodePlain(const uint8_t* p, const uint8_t* end, int64_t n, Values* out) {
  const uint64_t avail = static_cast<uint64_t>(end - p);
  // PLAIN values fill their page exactly: a page with bytes to spare was
  // written for another type or count.
  auto need = [&](uint64_t bytes) -> absl::Status {
    if (bytes > avail) return Damaged(StrCat("a page holds fewer values than it says (", n, ")"));
    if (bytes < avail) {
      return Damaged(StrCat("a page has ", avail - bytes, " bytes after its ", n, " ",
                            PhysicalName(c_.physical), " values"));
    }
    return absl::OkStatus();
  };
  switch (c_.physical) {
    case kPqBoolean:
      RETL_RETURN_IF_ERROR(need((static_cast<uint64_t>(n) + 7) / 8));
      for (int64_t i = 0; i < n; ++i) out->ints.push_back((p[i >> 3] >> (i & 7)) & 1);
      return absl::OkStatus();
    case kPqInt32:
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 4));
      for (int64_t i = 0; i < n; ++i) out->ints.push_back(LoadLE<int32_t>(p + i * 4));
      return absl::OkStatus();
    case kPqInt64:
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 8));
      for (int64_t i = 0; i < n; ++i) out->ints.push_back(LoadLE<int64_t>(p + i * 8));
      return absl::OkStatus();
    case kPqInt96:
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 12));
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t nanos = LoadLE<uint64_t>(p + i * 12);
        const int64_t day = LoadLE<int32_t>(p + i * 12 + 8) - kJulianEpochDay;
        if (nanos >= static_cast<uint64_t>(kMicrosPerDay) * 1000 || day < -100000000 || day > 100000000) {
          return ValueError(rows_done_ + static_cast<int64_t>(out->ints.size()),
                            "an INT96 timestamp is out of range");
        }
        out->ints.push_back(day * kMicrosPerDay + static_cast<int64_t>(nanos / 1000));
      }
      return absl::OkStatus();
    case kPqFloat:
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 4));
      for (int64_t i = 0; i < n; ++i) out->doubles.push_back(LoadLE<float>(p + i * 4));
      return absl::OkStatus();
    case kPqDouble:
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * 8));
      for (int64_t i = 0; i < n; ++i) out->doubles.push_back(LoadLE<double>(p + i * 8));
      return absl::OkStatus();
    case kPqByteArray:
      for (int64_t i = 0; i < n; ++i) {
        if (end - p < 4) return need(avail + 1);
        const uint32_t len = LoadLE<uint32_t>(p);
        p += 4;
        if (len > static_cast<uint64_t>(end - p)) return need(avail + 1);
        out->bytes.emplace_back(reinterpret_cast<const char*>(p), len);
        p += len;
      }
      if (p != end) {
        return Damaged(StrCat("a page has ", end - p, " bytes after its ", n, " BYTE_ARRAY values"));
      }
      return absl::OkStatus();
    case kPqFixed: {
      const uint64_t w = static_cast<uint64_t>(c_.type_length);
      RETL_RETURN_IF_ERROR(need(static_cast<uint64_t>(n) * w));
      for (int64_t i = 0; i < n; ++i) out->bytes.emplace_back(reinterpret_cast<const char*>(p + i * w), w);
      return absl::OkStatus();
    }
    default: return Damaged("unknown physical type");
  }
}

absl::Status ChunkDecoder::DecodeByteArrays(int encoding, const uint8_t* p, const uint8_t* end,
                                            int64_t n, Values* out) {
  std::vector<int64_t> prefixes, lengths;
  const uint8_t* q = p;
  if (encoding == kDeltaByteArray) {
    if (!DecodeDeltaBinary(q, end, n, &prefixes, &q)) return Damaged("bad DELTA_BYTE_ARRAY prefix lengths");
  }
  if (!DecodeDeltaBinary(q, end, n, &lengths, &q)) return Damaged(StrCat("bad ", EncodingName(encoding), " lengths"));
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (lengths[i] < 0 || (encoding == kDeltaByteArray && prefixes[i] < 0)) {
      return Damaged(StrCat("a negative length in ", EncodingName(encoding)));
    }
    total += static_cast<uint64_t>(lengths[i]);
  }
  if (total > static_cast<uint64_t>(end - q)) return Damaged(StrCat(EncodingName(encoding), " data is short"));
  if (encoding == kDeltaLengthByteArray) {
    for (int64_t i = 0; i < n; ++i) {
      out->bytes.emplace_back(reinterpret_cast<const char*>(q), lengths[i]);
      q += lengths[i];
    }
    return absl::OkStatus();
  }
  // DELTA_BYTE_ARRAY: each value is a prefix of the one before and a suffix.
  uint64_t size = 0, prev = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(prefixes[i]) > prev) return Damaged("a DELTA_BYTE_ARRAY prefix is longer than the value before");
    prev = static_cast<uint64_t>(prefixes[i]) + static_cast<uint64_t>(lengths[i]);
    size += prev;
    if (size > (uint64_t{1} << 34)) return Damaged("DELTA_BYTE_ARRAY values too large");
  }
  auto arena = std::make_unique<std::string>();
  arena->resize(size);
  char* w = arena->data();
  const char* last = nullptr;
  for (int64_t i = 0; i < n; ++i) {
    if (prefixes[i] > 0) std::memcpy(w, last, prefixes[i]);
    std::memcpy(w + prefixes[i], q, lengths[i]);
    q += lengths[i];
    const size_t len = static_cast<size_t>(prefixes[i] + lengths[i]);
    out->bytes.emplace_back(w, len);
    last = w;
    w += len;
  }
  out->arena.push_back(std::move(arena));
  return absl::OkStatus();
}

absl::Status ChunkDecoder::DecodeValues(int encoding, const uint8_t* p, const uint8_t* end, int64_t n,
                                        Values* out) {
  const int t = c_.physical;
  switch (encoding) {
    case kPlain: return DecodePlain(p, end, n, out);
    case kPlainDictionary:
    case kRleDictionary: {
      if (!have_dict_) return Damaged("a dictionary-encoded page comes before any dictionary page");
      if (p >= end) return Damaged("a dictionary-encoded page is empty");
      const int width = *p++;
      if (width > 32) return Damaged(StrCat("dictionary indices of ", width, " bits"));
      indices_.resize(n);
      HybridDecoder d(p, end, width);
      if (!d.Decode(indices_.data(), n)) return Damaged("bad dictionary indices");
      const size_t dict_size = std::max({dict_.ints.size(), dict_.doubles.size(), dict_.bytes.size()});
      for (int64_t i = 0; i < n; ++i) {
        if (indices_[i] >= dict_size) {
          return Damaged(StrCat("dictionary index ", indices_[i], " of a dictionary of ", dict_size));
        }
      }
      if (!dict_.ints.empty() || (t != kPqFloat && t != kPqDouble && t != kPqByteArray && t != kPqFixed)) {
        for (int64_t i = 0; i < n; ++i) out->ints.push_back(dict_.ints[indices_[i]]);
      } else if (t == kPqFloat || t == kPqDouble) {
        for (int64_t i = 0; i < n; ++i) out->doubles.push_back(dict_.doubles[indices_[i]]);
      } else {
        for (int64_t i = 0; i < n; ++i) out->bytes.push_back(dict_.bytes[indices_[i]]);
      }
      return absl::OkStatus();
    }
    case kRle: {
      if (t != kPqBoolean) break;
      if (end - p < 4) return Damaged("an RLE page has no length");
      const uint32_t len = LoadLE<uint32_t>(p);
      p += 4;
      if (len > static_cast<uint64_t>(end - p)) return Damaged("an RLE page is shorter than its length");
      indices_.resize(n);
      HybridDecoder d(p, p + len, 1);
      if (!d.Decode(indices_.data(), n)) return Damaged("bad RLE booleans");
      for (int64_t i = 0; i < n; ++i) out->ints.push_back(indices_[i]);
      return absl::OkStatus();
    }
    case kDeltaBinaryPacked: {
      if (t != kPqInt32 && t != kPqInt64) break;
      const size_t before = out->ints.size();
      if (!DecodeDeltaBinary(p, end, n, &out->ints, nullptr)) return Damaged("bad DELTA_BINARY_PACKED values");
      if (t == kPqInt32) {
        for (size_t i = before; i < out->ints.size(); ++i) out->ints[i] = static_cast<int32_t>(out->ints[i]);
      }
      return absl::OkStatus();
    }
    case kDeltaLengthByteArray:
    case kDeltaByteArray: {
      if (t != kPqByteArray && !(t == kPqFixed && encoding == kDeltaByteArray)) break;
      const size_t before = out->bytes.size();
      RETL_RETURN_IF_ERROR(DecodeByteArrays(encoding, p, end, n, out));
      if (t == kPqFixed) {
        for (size_t i = before; i < out->bytes.size(); ++i) {
          if (out->bytes[i].size() != static_cast<size_t>(c_.type_length)) {
            return Damaged("a FIXED_LEN_BYTE_ARRAY value has the wrong length");
          }
        }
      }
      return absl::OkStatus();
    }
    case kByteStreamSplit: {
      const uint64_t w = t == kPqFloat || t == kPqInt32 ? 4 : t == kPqDouble || t == kPqInt64 ? 8
                         : t == kPqFixed ? static_cast<uint64_t>(c_.type_length) : 0;
      if (w == 0) break;
      if (static_cast<uint64_t>(end - p) != w * static_cast<uint64_t>(n)) {
        return Damaged(StrCat("a BYTE_STREAM_SPLIT page has ", end - p, " bytes for ", n, " values of ", w));
      }
      std::string joined(w * n, '\0');
      for (int64_t i = 0; i < n; ++i) {
        for (uint64_t k = 0; k < w; ++k) joined[i * w + k] = static_cast<char>(p[k * n + i]);
      }
      if (t == kPqFixed) {
        auto arena = std::make_unique<std::string>(std::move(joined));
        for (int64_t i = 0; i < n; ++i) out->bytes.emplace_back(arena->data() + i * w, w);
        out->arena.push_back(std::move(arena));
        return absl::OkStatus();
      }
      const auto* b = reinterpret_cast<const uint8_t*>(joined.data());
      return DecodePlain(b, b + joined.size(), n, out);
    }
    default: break;
  }
  return Unsupported(StrCat("encoding ", EncodingName(encoding), " (", encoding, ") of ",
                            PhysicalName(t), " values is not supported"));
}

// A big-endian two's complement integer of 1 to 16 bytes.
int128 BigEndianInt(std::string_view b) {
  unsigned __int128 v = (!b.empty() && (static_cast<uint8_t>(b[0]) & 0x80)) ? ~static_cast<unsigned __int128>(0) : 0;
  for (char ch : b) v = (v << 8) | static_cast<uint8_t>(ch);
  return static_cast<int128>(v);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

absl::Status ChunkDecoder::Append(const uint32_t* defs, int64_t n, const Values& v, Column* out) {
  size_t k = 0;
  const size_t have = c_.conv == Conv::kFloat || c_.conv == Conv::kDouble ? v.doubles.size()
                      : v.bytes.empty() ? v.ints.size() : v.bytes.size();
  for (int64_t j = 0; j < n; ++j) {
    if (defs != nullptr && defs[j] == 0) {
      out->AppendNull();
      continue;
    }
    if (k >= have) return Damaged("a page has fewer values than non-NULL rows");
    const int64_t row = rows_done_ + j;
    switch (c_.conv) {
      case Conv::kBool: out->AppendBool(v.ints[k] != 0); break;
      case Conv::kInt:
      case Conv::kTsMicros:
      case Conv::kInt96: out->AppendInt(v.ints[k]); break;
      case Conv::kUint8: out->AppendInt(v.ints[k] & 0xff); break;
      case Conv::kUint16: out->AppendInt(v.ints[k] & 0xffff); break;
      case Conv::kUint32: out->AppendInt(v.ints[k] & 0xffffffff); break;
      case Conv::kUint64: out->AppendInt128(static_cast<uint64_t>(v.ints[k])); break;
      case Conv::kTsMillis: {
        int64_t micros;
        if (__builtin_mul_overflow(v.ints[k], int64_t{1000}, &micros)) {
          return ValueError(row, "a millisecond timestamp is out of range");
        }
        out->AppendInt(micros);
        break;
      }
      case Conv::kTsNanos: {
        const int64_t x = v.ints[k];
        out->AppendInt(x / 1000 - (x % 1000 < 0 ? 1 : 0));  // floor
        break;
      }
      case Conv::kDecimalInt:
        if (out->type().physical() == PhysicalType::kInt128) out->AppendInt128(v.ints[k]);
        else out->AppendInt(v.ints[k]);
        break;
      case Conv::kFloat:
      case Conv::kDouble: out->AppendDouble(v.doubles[k]); break;
      case Conv::kFloat16: {
        const std::string_view b = v.bytes[k];
        out->AppendDouble(HalfToFloat(static_cast<uint16_t>(static_cast<uint8_t>(b[0]) |
                                                            (static_cast<uint8_t>(b[1]) << 8))));
        break;
      }
      case Conv::kString:
        if (!IsValidUtf8(v.bytes[k])) {
          return ValueError(row, "a STRING value is not valid UTF-8; import the column as BINARY (--type NAME=BINARY)");
        }
        out->AppendBytes(v.bytes[k]);
        break;
      case Conv::kBinary: out->AppendBytes(v.bytes[k]); break;
      case Conv::kDecimalBytes: {
        const std::string_view b = v.bytes[k];
        if (b.empty() || b.size() > 16) {
          return ValueError(row, StrCat("a DECIMAL value of ", b.size(), " bytes"));
        }
        const int128 x = BigEndianInt(b);
        if (out->type().physical() == PhysicalType::kInt128) {
          out->AppendInt128(x);
        } else {
          if (x < INT64_MIN || x > INT64_MAX) return ValueError(row, "a DECIMAL value exceeds its precision");
          out->AppendInt(static_cast<int64_t>(x));
        }
        break;
      }
    }
    ++k;
  }
  if (k != have) return Damaged(StrCat("a page has ", have, " values for ", k, " non-NULL rows"));
  return absl::OkStatus();
}

absl::Status ChunkDecoder::Decode(size_t g, int64_t first_row, Column* out) {
  g_ = g;
  first_row_ = first_row;
  rows_done_ = 0;
  have_dict_ = false;
  dict_.Clear();
  dict_.arena.clear();
  const RowGroupMeta& rg = f_.meta.row_groups[g];
  const ColumnChunkMeta& chunk = rg.columns[c_.leaf];
  if (chunk.encrypted) return Unsupported("encrypted columns are not supported");
  if (!chunk.file_path.empty()) {
    return Unsupported(StrCat("its data is in another file ('", chunk.file_path, "'), which is not supported"));
  }
  if (!chunk.has_meta) return Damaged("the column chunk has no metadata");
  const ColumnMeta& m = chunk.meta;
  if (m.type != c_.physical) {
    return Damaged(StrCat("the chunk's type ", PhysicalName(m.type), " is not the schema's ",
                          PhysicalName(c_.physical)));
  }
  if (rg.num_rows == 0) {
    // Writers emit empty row groups (pyarrow for a file of no rows, with a
    // data page offset of 0): nothing to read, but the counts must agree.
    if (m.num_values != 0) return Damaged(StrCat("the chunk has ", m.num_values, " values for 0 rows"));
    return absl::OkStatus();
  }
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < start) start = m.dictionary_page_offset;
  const int64_t limit = static_cast<int64_t>(f_.footer_start);
  if (start < 4 || m.total_compressed_size < 0 || start > limit || m.total_compressed_size > limit - start) {
    return Damaged(StrCat("the chunk's bytes [", start, ", +", m.total_compressed_size,
                          ") are outside the data of the file"));
  }
  if (m.num_values != rg.num_rows) {
    return Damaged(StrCat("the chunk has ", m.num_values, " values for ", rg.num_rows, " rows"));
  }
  const uint8_t* base = f_.file->data();
  int64_t pos = start;
  const int64_t end = start + m.total_compressed_size;
  const int64_t rows_before = out->size();
  while (rows_done_ < rg.num_rows) {
    if (pos >= end) return Damaged(StrCat("the pages hold ", rows_done_, " of ", rg.num_rows, " rows"));
    CompactReader r(base + pos, static_cast<size_t>(end - pos));
    PageHeader h;
    ReadPageHeader(&r, &h);
    if (r.failed()) return Damaged(StrCat("cannot read a page header at offset ", pos, ": ", r.error()));
    pos += static_cast<int64_t>(r.consumed());
    if (h.compressed_size < 0 || h.uncompressed_size < 0 || h.compressed_size > end - pos) {
      return Damaged(StrCat("a page at offset ", pos, " runs past its column chunk"));
    }
    const std::string_view stored(reinterpret_cast<const char*>(base + pos), h.compressed_size);
    pos += h.compressed_size;
    if (h.crc.has_value()) {
      const uint32_t crc = static_cast<uint32_t>(
          crc32(0, reinterpret_cast<const Bytef*>(stored.data()), static_cast<uInt>(stored.size())));
      if (crc != static_cast<uint32_t>(*h.crc)) {
        return Damaged(StrCat("the page at offset ", pos - h.compressed_size, " fails its CRC check"));
      }
    }
    switch (h.type) {
      case kDictionaryPage: {
        if (have_dict_) return Damaged("a second dictionary page");
        if (h.encoding != kPlain && h.encoding != kPlainDictionary) {
          return Unsupported(StrCat("a dictionary page in encoding ", EncodingName(h.encoding)));
        }
        RETL_ASSIGN_OR_RETURN(std::string_view body, Body(stored, h.uncompressed_size, true, &dict_buffer_));
        if (h.num_values < 0) return Damaged("a dictionary page has a negative size");
        const auto* p = reinterpret_cast<const uint8_t*>(body.data());
        RETL_RETURN_IF_ERROR(DecodePlain(p, p + body.size(), h.num_values, &dict_));
        have_dict_ = true;
        break;
      }
      case kDataPage:
      case kDataPageV2: {
        const bool v2 = h.type == kDataPageV2;
        const int64_t n = h.num_values;
        if (n < 0 || n > rg.num_rows - rows_done_) {
          return Damaged(StrCat("a page has ", n, " values where ", rg.num_rows - rows_done_, " rows remain"));
        }
        std::string_view levels, data;
        if (v2) {
          if (h.rep_length != 0) return Unsupported("repeated values (nested data) are not supported");
          if (h.def_length < 0 || h.def_length > h.compressed_size || h.def_length > h.uncompressed_size) {
            return Damaged("a v2 page's level lengths exceed the page");
          }
          levels = stored.substr(0, h.def_length);
          RETL_ASSIGN_OR_RETURN(data, Body(stored.substr(h.def_length), h.uncompressed_size - h.def_length,
                                           h.is_compressed, &page_buffer_));
        } else {
          RETL_ASSIGN_OR_RETURN(data, Body(stored, h.uncompressed_size, true, &page_buffer_));
        }
        const auto* p = reinterpret_cast<const uint8_t*>(data.data());
        const uint8_t* data_end = p + data.size();
        int64_t present = n;
        const uint32_t* defs = nullptr;
        if (c_.optional) {
          defs_.resize(n);
          if (!v2 && h.def_encoding == kBitPacked) {
            // The deprecated BIT_PACKED levels: no length prefix, packed from
            // the most significant bit of each byte.
            const uint64_t bytes = (static_cast<uint64_t>(n) + 7) / 8;
            if (bytes > static_cast<uint64_t>(data_end - p)) return Damaged("definition levels run past the page");
            for (int64_t j = 0; j < n; ++j) defs_[j] = (p[j >> 3] >> (7 - (j & 7))) & 1;
            p += bytes;
          } else {
            const uint8_t* lp;
            const uint8_t* lend;
            if (v2) {
              lp = reinterpret_cast<const uint8_t*>(levels.data());
              lend = lp + levels.size();
            } else {
              if (h.def_encoding != kRle) {
                return Unsupported(StrCat("definition levels in encoding ", EncodingName(h.def_encoding),
                                          " are not supported"));
              }
              if (data_end - p < 4) return Damaged("a page has no definition levels");
              const uint32_t len = LoadLE<uint32_t>(p);
              p += 4;
              if (len > static_cast<uint64_t>(data_end - p)) return Damaged("definition levels run past the page");
              lp = p, lend = p + len;
              p += len;
            }
            HybridDecoder d(lp, lend, 1);
            if (!d.Decode(defs_.data(), n)) return Damaged("bad definition levels");
          }
          present = 0;
          for (int64_t j = 0; j < n; ++j) present += defs_[j];
          defs = defs_.data();
          if (v2 && n - present != h.num_nulls) {
            return Damaged(StrCat("a page has ", n - present, " NULLs but says ", h.num_nulls));
          }
        } else if (v2 && h.num_nulls != 0) {
          return Damaged("a REQUIRED column's page has NULLs");
        }
        values_.Clear();
        values_.arena.clear();
        RETL_RETURN_IF_ERROR(DecodeValues(h.encoding, p, data_end, present, &values_));
        RETL_RETURN_IF_ERROR(Append(defs, n, values_, out));
        rows_done_ += n;
        break;
      }
      case kIndexPage: break;
      default: return Damaged(StrCat("unknown page type ", h.type));
    }
  }
  if (out->size() - rows_before != rg.num_rows) return Damaged("wrong number of rows");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Converting to the table's types.

bool PlainInteger(TypeId t) {
  return t == TypeId::kTinyInt || t == TypeId::kSmallInt || t == TypeId::kInt || t == TypeId::kBigInt;
}

bool FitsInteger(int64_t v, TypeId t) {
  switch (t) {
    case TypeId::kTinyInt: return v >= INT8_MIN && v <= INT8_MAX;
    case TypeId::kSmallInt: return v >= INT16_MIN && v <= INT16_MAX;
    case TypeId::kInt: return v >= INT32_MIN && v <= INT32_MAX;
    default: return true;
  }
}

// Appends `src` (rows of the natural type) to `dst` (the field's type).
// `describe(row)` names a row of `src` for errors.
absl::Status ConvertInto(const Column& src, const Field& field, Column* dst,
                         const std::function<std::string(RowIndex)>& describe) {
  const DataType& from = src.type();
  const DataType& to = field.type;
  std::string text;
  for (RowIndex r = 0; r < src.size(); ++r) {
    if (!src.IsValid(r)) {
      dst->AppendNull();
      continue;
    }
    auto error = [&](std::string_view what) {
      return absl::InvalidArgumentError(StrCat(describe(r), ": column '", field.name, "': ", what));
    };
    if (PlainInteger(from.id) && PlainInteger(to.id)) {
      const int64_t v = src.GetInt(r);
      if (!FitsInteger(v, to.id)) {
        return error(StrCat(v, " is out of range for ", to.ToString()));
      }
      dst->AppendInt(v);
    } else if ((PlainInteger(from.id) || from.id == TypeId::kFloat || from.id == TypeId::kDouble) &&
               (to.id == TypeId::kDouble || to.id == TypeId::kFloat)) {
      dst->AppendDouble(PlainInteger(from.id) ? static_cast<double>(src.GetInt(r)) : src.GetDouble(r));
    } else if (from.id == TypeId::kDate && to.id == TypeId::kTimestamp) {
      dst->AppendInt(src.GetInt(r) * kMicrosPerDay);
    } else if (from.physical() == PhysicalType::kBytes && to.physical() == PhysicalType::kBytes) {
      const std::string_view b = src.GetBytes(r);
      if (to.id == TypeId::kString && !IsValidUtf8(b)) return error("the value is not valid UTF-8");
      dst->AppendBytes(b);
    } else {
      text.clear();
      if (from.physical() == PhysicalType::kBytes) {
        text.assign(src.GetBytes(r));
      } else {
        AppendValueText(src, r, &text);
      }
      absl::Status s = AppendParsedValue(text, dst);
      if (!s.ok()) return error(StrCat(s.message(), " (a ", from.ToString(), " value in the file)"));
    }
  }
  return absl::OkStatus();
}

int FindField(const std::vector<Field>& fields, std::string_view name) { return FindFieldByName(fields, name); }

}  // namespace

bool HasParquetMagic(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[4];
  const bool ok = std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, "PAR1", 4) == 0;
  std::fclose(f);
  return ok;
}

std::string ParquetData::Describe(RowIndex row) const {
  if (batch_file >= 0) return StrCat(paths[batch_file], ": row ", batch_first_row + row + 1);
  const size_t file = static_cast<size_t>(std::upper_bound(file_end.begin(), file_end.end(), row) - file_end.begin());
  if (file >= paths.size()) return StrCat("row ", row + 1);
  const RowIndex first = file == 0 ? 0 : file_end[file - 1];
  return StrCat(paths[file], ": row ", row - first + 1);
}

namespace {

// ReadParquetFiles into `data`, or in batches given to `add` if it is set.
absl::Status ReadParquet(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                         const std::map<std::string, std::string>& constants, const ParquetProgress& progress,
                         int threads, int64_t batch_bytes, const ParquetBatchAdd* add, ParquetData* out_data) {
  ParquetData& data = *out_data;
  RETL_ASSIGN_OR_RETURN(std::vector<std::optional<Column>> constant_columns, ConstantColumns(fields, constants));
  // Open every file first: a missing or damaged footer fails before any work.
  std::vector<ParquetFile> files;
  int64_t total_bytes = 0;
  for (const std::string& path : paths) {
    RETL_ASSIGN_OR_RETURN(ParquetFile f, OpenParquet(path));
    total_bytes += static_cast<int64_t>(f.file->size());
    files.push_back(std::move(f));
  }
  data.paths = paths;
  for (const Field& f : fields) data.columns.emplace_back(f.type);
  int64_t bytes_before = 0;
  for (ParquetFile& file : files) {
    // Which file column feeds each field.
    std::vector<int> source(fields.size(), -1);
    for (size_t k = 0; k < file.columns.size(); ++k) {
      const FileColumn& c = file.columns[k];
      const int f = FindField(fields, c.name);
      if (f < 0) {
        return absl::InvalidArgumentError(StrCat(file.path, ": column '", c.name,
                                                 "' is not a column of the table",
                                                 CaseSuggestion(fields, c.name)));
      }
      if (source[f] >= 0) {
        return absl::InvalidArgumentError(StrCat(file.path, ": the file has two columns named '", c.name, "'"));
      }
      if (!c.unsupported.empty()) {
        return absl::InvalidArgumentError(StrCat(file.path, ": column '", c.name, "' cannot be imported: ", c.unsupported));
      }
      source[f] = static_cast<int>(k);
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      if (source[f] < 0 && !constant_columns[f].has_value()) {
        return absl::InvalidArgumentError(StrCat(file.path, ": the file has no column '", fields[f].name,
                                                 "' of the table"));
      }
    }
    const RowIndex file_rows = file.meta.num_rows;
    const RowIndex rows_before = data.num_rows();
    // In batches, a row group at a time, and a batch holds rows of one file.
    RowIndex batch_first_row = 0;
    auto emit = [&](RowIndex next_row, bool force) -> absl::Status {
      const RowIndex rows = data.columns.empty() ? 0 : data.columns[0].size();
      if (add == nullptr || rows == 0 || (!force && ColumnBytes(data.columns) < batch_bytes)) return absl::OkStatus();
      ParquetData batch;
      batch.paths = paths;
      batch.batch_file = static_cast<int>(&file - files.data());
      batch.batch_first_row = batch_first_row;
      batch.file_end.push_back(rows);
      for (size_t f = 0; f < fields.size(); ++f) {
        batch.columns.push_back(std::move(data.columns[f]));
        data.columns[f] = Column(fields[f].type);
      }
      batch_first_row = next_row;
      return (*add)(std::move(batch));
    };
    const size_t groups = file.meta.row_groups.size();
    int64_t group_first_row = 0;
    for (size_t g0 = 0, g1 = 0; g0 < groups; g0 = g1) {
      g1 = add != nullptr ? g0 + 1 : groups;
      const RowIndex round_first_row = group_first_row;
      RowIndex round_rows = 0;
      for (size_t g = g0; g < g1; ++g) round_rows += file.meta.row_groups[g].num_rows;
      group_first_row += round_rows;
      // One task per field read from the file: its chunks, row group by row
      // group. Each task stops at its first error; the error reported is the
      // one at the earliest row (then field), whatever the thread count.
      struct Task {
        size_t field;
        absl::Status status;
        int64_t error_row = INT64_MAX;
      };
      std::vector<Task> tasks;
      for (size_t f = 0; f < fields.size(); ++f) {
        if (source[f] >= 0) tasks.push_back(Task{f, absl::OkStatus()});
      }
      ParallelFor(tasks.size(), threads, [&](size_t t) {
        Task& task = tasks[t];
        const Field& field = fields[task.field];
        const FileColumn& c = file.columns[source[task.field]];
        Column* out = &data.columns[task.field];
        const bool same = c.type == field.type;
        ChunkDecoder decoder(file, c);
        int64_t first_row = round_first_row;
        const RowIndex round_end = out->size() + round_rows;
        out->Grow(round_end);
        for (size_t g = g0; g < g1; ++g) {
          const int64_t rows = file.meta.row_groups[g].num_rows;
          auto describe = [&](RowIndex r) {
            return StrCat(file.path, ": row ", first_row + r + 1, " (row group ", g, ")");
          };
          absl::Status s;
          RowIndex bad_row = -1;
          if (same) {
            const RowIndex before = out->size();
            s = decoder.Decode(g, first_row, out);
            if (s.ok() && !field.nullable && out->null_count() > 0) {
              for (RowIndex r = before; r < out->size(); ++r) {
                if (!out->IsValid(r)) {
                  bad_row = r - before;
                  break;
                }
              }
            }
          } else {
            Column natural(c.type);
            s = decoder.Decode(g, first_row, &natural);
            if (s.ok()) {
              if (!field.nullable && natural.null_count() > 0) {
                for (RowIndex r = 0; r < natural.size(); ++r) {
                  if (!natural.IsValid(r)) {
                    bad_row = r;
                    break;
                  }
                }
              } else {
                s = ConvertInto(natural, field, out, describe);
                if (!s.ok()) bad_row = rows;  // the row is in the message; order by row group
              }
            }
          }
          if (bad_row >= 0 && s.ok()) {
            s = absl::InvalidArgumentError(StrCat(describe(bad_row), ": column '", field.name,
                                                  "': NULL in NOT NULL column"));
          }
          if (!s.ok()) {
            task.status = s;
            task.error_row = first_row + (bad_row >= 0 ? bad_row : 0);
            break;
          }
          if (g == g0 && g + 1 < g1 && field.type.physical() == PhysicalType::kBytes && out->size() > 0) {
            // Room for the round's strings, from the first row group's: a
            // large buffer that doubles is copied and faulted in twice.
            const double per_row = static_cast<double>(out->bytes().size()) / static_cast<double>(out->size());
            out->Grow(round_end, static_cast<uint64_t>(per_row * 1.1 * static_cast<double>(round_end)));
          }
          first_row += rows;
        }
      });
      const Task* first_error = nullptr;
      for (const Task& t : tasks) {
        if (!t.status.ok() && (first_error == nullptr || t.error_row < first_error->error_row)) first_error = &t;
      }
      if (first_error != nullptr) return first_error->status;
      for (size_t f = 0; f < fields.size(); ++f) {
        if (source[f] >= 0) continue;
        Column& column = data.columns[f];
        for (RowIndex r = 0; r < round_rows; ++r) column.AppendFrom(*constant_columns[f], 0);
      }
      RETL_RETURN_IF_ERROR(emit(group_first_row, /*force=*/false));
      if (progress && add != nullptr) progress(bytes_before, total_bytes, rows_before + group_first_row);
    }
    RETL_RETURN_IF_ERROR(emit(file_rows, /*force=*/true));
    data.file_end.push_back(rows_before + file_rows);
    bytes_before += static_cast<int64_t>(file.file->size());
    if (progress) progress(bytes_before, total_bytes, data.num_rows());
    file.file.reset();  // unmap as soon as done
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParquetData> ReadParquetFiles(const std::vector<std::string>& paths,
                                             const std::vector<Field>& fields,
                                             const std::map<std::string, std::string>& constants,
                                             const ParquetProgress& progress, int threads) {
  ParquetData data;
  RETL_RETURN_IF_ERROR(ReadParquet(paths, fields, constants, progress, threads, 0, nullptr, &data));
  return data;
}

absl::Status ReadParquetBatches(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                                const std::map<std::string, std::string>& constants,
                                const ParquetProgress& progress, int threads, int64_t batch_bytes,
                                const ParquetBatchAdd& add) {
  ParquetData data;
  return ReadParquet(paths, fields, constants, progress, threads, std::max<int64_t>(1, batch_bytes), &add, &data);
}

absl::StatusOr<std::vector<Field>> InferParquetSchema(const std::vector<std::string>& paths,
                                                      const std::map<std::string, DataType>& overrides) {
  if (paths.empty()) return absl::InvalidArgumentError("no input files to infer a schema from");
  std::vector<Field> fields;
  std::string first_path;
  for (const std::string& path : paths) {
    RETL_ASSIGN_OR_RETURN(ParquetFile f, OpenParquet(path));
    std::vector<Field> these;
    for (const FileColumn& c : f.columns) {
      if (!c.unsupported.empty()) {
        return absl::InvalidArgumentError(StrCat(path, ": column '", c.name, "' cannot be imported: ",
                                                 c.unsupported));
      }
      if (FindField(these, c.name) >= 0) {
        return absl::InvalidArgumentError(StrCat(path, ": the file has two columns named '", c.name, "'"));
      }
      these.push_back(Field{c.name, c.type, /*nullable=*/true});
    }
    if (these.empty()) return absl::InvalidArgumentError(StrCat(path, ": the file has no columns"));
    if (first_path.empty()) {
      fields = std::move(these);
      first_path = path;
      continue;
    }
    // Columns are matched by name (as against a table): the order may differ.
    std::string what;
    for (const Field& f : fields) {
      const int k = FindField(these, f.name);
      if (k < 0) {
        what = StrCat("it lacks column '", f.name, "'");
      } else if (these[k].type != f.type) {
        what = StrCat("column '", f.name, "' is ", these[k].type.ToString(), ", not ", f.type.ToString());
      }
      if (!what.empty()) break;
    }
    for (size_t k = 0; k < these.size() && what.empty(); ++k) {
      if (FindField(fields, these[k].name) < 0) what = StrCat("it has another column '", these[k].name, "'");
    }
    if (!what.empty()) {
      return absl::InvalidArgumentError(StrCat(path, ": its columns differ from those of ", first_path, ": ", what,
                                               "; import the files separately or give --schema"));
    }
  }
  RETL_RETURN_IF_ERROR(ApplyTypeOverrides(overrides, &fields));
  return fields;
}

}  // namespace retl
