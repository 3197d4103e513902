#include "format/encoding.h"
#include "format/strings.h"

#include <algorithm>
#include <numeric>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace retl {

namespace {

constexpr size_t kBufferAlignment = 8;  // FORMAT.md §5.1

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(StrCat("corrupt column chunk: ", what));
}

// Accumulates the buffers of one chunk, each starting 8-byte aligned.
class ChunkBuilder {
 public:
  explicit ChunkBuilder(EncodedChunk* chunk) : chunk_(chunk) {}
  std::string* Begin() {
    std::string& b = chunk_->bytes;
    b.resize((b.size() + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment, '\0');
    start_ = b.size();
    return &b;
  }
  void End() { chunk_->layout.buffers.push_back({start_, chunk_->bytes.size() - start_}); }
  void Add(std::string_view data) {
    Begin()->append(data.data(), data.size());
    End();
  }

 private:
  EncodedChunk* chunk_;
  uint64_t start_ = 0;
};

template <typename T>
void PutLE(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

template <typename T>
T GetLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool HasNulls(const Column& c, RowIndex begin, RowIndex end) {
  if (c.null_count() == 0) return false;
  for (RowIndex i = begin; i < end; ++i) {
    if (!c.IsValid(i)) return true;
  }
  return false;
}

// Buffer 0 of every encoding: LSB-first bitmap, 1 = valid; empty without NULLs.
void AddValidity(const Column& c, RowIndex begin, RowIndex end, ChunkBuilder* b) {
  std::string* out = b->Begin();
  if (HasNulls(c, begin, end)) {
    RowIndex n = end - begin;
    size_t at = out->size();
    out->resize(at + (n + 7) / 8, '\0');
    for (RowIndex i = 0; i < n; ++i) {
      if (c.IsValid(begin + i)) (*out)[at + i / 8] |= static_cast<char>(1u << (i % 8));
    }
  }
  b->End();
}

void AddBitmapOfBools(const Column& c, RowIndex begin, RowIndex end, ChunkBuilder* b) {
  std::string* out = b->Begin();
  RowIndex n = end - begin;
  size_t at = out->size();
  out->resize(at + (n + 7) / 8, '\0');
  const uint8_t* v = c.fixed_data() + begin;
  for (RowIndex i = 0; i < n; ++i) {
    if (v[i]) (*out)[at + i / 8] |= static_cast<char>(1u << (i % 8));
  }
  b->End();
}

// Integer-like value at row i widened to int64 (not for kInt128).
inline int64_t IntAt(const Column& c, RowIndex i) { return c.GetInt(i); }

bool IsFixed(PhysicalType p) { return p != PhysicalType::kBytes; }
bool IsSmallInt(PhysicalType p) {
  return p == PhysicalType::kInt8 || p == PhysicalType::kInt16 || p == PhysicalType::kInt32 ||
         p == PhysicalType::kInt64;
}

bool Applies(PhysicalType p, Encoding e) {
  switch (e) {
    case Encoding::kPlain:
    case Encoding::kRle: return true;
    case Encoding::kForBitpack: return IsSmallInt(p);
    case Encoding::kDictionary: return p == PhysicalType::kBytes;
  }
  return false;
}

// ---- Encoders --------------------------------------------------------------

void EncodePlain(const Column& c, RowIndex begin, RowIndex end, EncodedChunk* chunk) {
  ChunkBuilder b(chunk);
  AddValidity(c, begin, end, &b);
  PhysicalType p = c.type().physical();
  if (p == PhysicalType::kBool) {
    AddBitmapOfBools(c, begin, end, &b);
  } else if (IsFixed(p)) {
    int w = c.type().FixedWidth();
    b.Add(std::string_view(reinterpret_cast<const char*>(c.fixed_data()) + begin * w,
                           (end - begin) * w));
  } else {
    std::string* out = b.Begin();
    uint64_t base = c.offsets()[begin];
    for (RowIndex i = begin; i <= end; ++i) {
      PutLE<uint32_t>(out, static_cast<uint32_t>(c.offsets()[i] - base));
    }
    b.End();
    b.Add(std::string_view(c.bytes().data() + base, c.offsets()[end] - base));
  }
}

void EncodeFor(const Column& c, RowIndex begin, RowIndex end, EncodedChunk* chunk) {
  ChunkBuilder b(chunk);
  AddValidity(c, begin, end, &b);
  bool any = false;
  int64_t lo = 0, hi = 0;
  for (RowIndex i = begin; i < end; ++i) {
    if (!c.IsValid(i)) continue;
    int64_t v = IntAt(c, i);
    if (!any) {
      lo = hi = v;
      any = true;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  int width = BitWidth(range);
  std::vector<uint64_t> deltas(end - begin);
  for (RowIndex i = begin; i < end; ++i) {
    deltas[i - begin] =
        c.IsValid(i) ? static_cast<uint64_t>(IntAt(c, i)) - static_cast<uint64_t>(lo) : 0;
  }
  std::string* out = b.Begin();
  BitPack(deltas.data(), deltas.size(), width, out);
  b.End();
  chunk->layout.reference = lo;
  chunk->layout.bit_width = width;
}

// The distinct non-NULL values of a STRING or BINARY chunk, for the
// dictionary encoding, and which one each row holds. With `give_up`, stops
// (viable = false) as soon as a dictionary cannot win: more distinct values
// than half the rows, judged on the first 4096 rows already, to spare
// building a large map for mostly-distinct columns.
struct Distinct {
  absl::flat_hash_map<std::string_view, uint32_t> index;  // value -> id
  std::vector<std::string_view> values;                   // by id (first appearance)
  std::vector<uint32_t> ids;                              // per row; 0 for NULL
  uint64_t bytes = 0;
  bool viable = true;
};

Distinct FindDistinct(const Column& c, RowIndex begin, RowIndex end, bool give_up) {
  Distinct d;
  const RowIndex n = end - begin;
  const RowIndex probe = std::min<RowIndex>(n, 4096);
  d.ids.assign(n, 0);
  for (RowIndex i = begin; i < end; ++i) {
    if (!c.IsValid(i)) continue;
    std::string_view v = c.GetBytes(i);
    auto [it, inserted] = d.index.emplace(v, static_cast<uint32_t>(d.values.size()));
    d.ids[i - begin] = it->second;
    if (!inserted) continue;
    d.values.push_back(v);
    d.bytes += v.size();
    const RowIndex seen = i - begin + 1;
    if (give_up && d.values.size() * 2 > static_cast<size_t>(seen >= probe ? n : probe)) {
      d.viable = false;
      return d;
    }
  }
  return d;
}

void EncodeDictionary(const Column& c, RowIndex begin, RowIndex end, const Distinct& d,
                      EncodedChunk* chunk) {
  ChunkBuilder b(chunk);
  AddValidity(c, begin, end, &b);
  // Distinct non-NULL values, sorted, so codes preserve order (FORMAT.md §5.4).
  std::vector<uint32_t> order(d.values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return d.values[x] < d.values[y]; });
  std::vector<uint32_t> code_of(order.size());
  std::vector<std::string_view> dict(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    code_of[order[k]] = static_cast<uint32_t>(k);
    dict[k] = d.values[order[k]];
  }
  std::string* out = b.Begin();
  uint32_t off = 0;
  PutLE<uint32_t>(out, 0);
  for (std::string_view v : dict) {
    off += static_cast<uint32_t>(v.size());
    PutLE<uint32_t>(out, off);
  }
  b.End();
  out = b.Begin();
  for (std::string_view v : dict) out->append(v.data(), v.size());
  b.End();
  int width = dict.empty() ? 0 : BitWidth(dict.size() - 1);
  std::vector<uint64_t> codes(end - begin, 0);
  for (RowIndex i = begin; i < end; ++i) {
    if (c.IsValid(i)) codes[i - begin] = code_of[d.ids[i - begin]];
  }
  out = b.Begin();
  BitPack(codes.data(), codes.size(), width, out);
  b.End();
  chunk->layout.bit_width = width;
  chunk->layout.dictionary_size = static_cast<int32_t>(dict.size());
}

// Calls f(i) for each i in [begin, end) where a run of equal stored values
// (NULL slots hold 0, or the empty string) starts.
template <typename F>
void ForEachRunStart(const Column& c, RowIndex begin, RowIndex end, F&& f) {
  if (begin >= end) return;
  f(begin);
  if (c.type().physical() == PhysicalType::kBytes) {
    const uint64_t* off = c.offsets().data();
    const char* bytes = c.bytes().data();
    for (RowIndex i = begin + 1; i < end; ++i) {
      const uint64_t len = off[i + 1] - off[i];
      if (len != off[i] - off[i - 1] || std::memcmp(bytes + off[i], bytes + off[i - 1], len) != 0) f(i);
    }
    return;
  }
  const uint8_t* v = c.fixed_data();
  auto typed = [&]<typename T>(T*) {
    T prev;
    std::memcpy(&prev, v + begin * sizeof(T), sizeof(T));
    for (RowIndex i = begin + 1; i < end; ++i) {
      T x;
      std::memcpy(&x, v + i * sizeof(T), sizeof(T));
      if (x != prev) f(i);
      prev = x;
    }
  };
  switch (c.type().FixedWidth()) {
    case 1: typed(static_cast<uint8_t*>(nullptr)); break;
    case 2: typed(static_cast<uint16_t*>(nullptr)); break;
    case 4: typed(static_cast<uint32_t*>(nullptr)); break;
    case 8: typed(static_cast<uint64_t*>(nullptr)); break;
    default: {
      const int w = c.type().FixedWidth();
      for (RowIndex i = begin + 1; i < end; ++i) {
        if (std::memcmp(v + i * w, v + (i - 1) * w, w) != 0) f(i);
      }
    }
  }
}

void EncodeRle(const Column& c, RowIndex begin, RowIndex end, EncodedChunk* chunk) {
  ChunkBuilder b(chunk);
  AddValidity(c, begin, end, &b);
  std::vector<RowIndex> run_starts;
  ForEachRunStart(c, begin, end, [&](RowIndex i) { run_starts.push_back(i); });
  std::string* out = b.Begin();
  for (size_t r = 0; r < run_starts.size(); ++r) {
    RowIndex run_end = r + 1 < run_starts.size() ? run_starts[r + 1] : end;
    PutLE<uint32_t>(out, static_cast<uint32_t>(run_end - begin));
  }
  b.End();
  PhysicalType p = c.type().physical();
  if (IsFixed(p)) {
    int w = c.type().FixedWidth();
    out = b.Begin();
    for (RowIndex s : run_starts) {
      out->append(reinterpret_cast<const char*>(c.fixed_data()) + s * w, w);
    }
    b.End();
  } else {
    out = b.Begin();
    uint32_t off = 0;
    PutLE<uint32_t>(out, 0);
    for (RowIndex s : run_starts) {
      off += static_cast<uint32_t>(c.GetBytes(s).size());
      PutLE<uint32_t>(out, off);
    }
    b.End();
    out = b.Begin();
    for (RowIndex s : run_starts) out->append(c.GetBytes(s));
    b.End();
  }
  chunk->layout.run_count = static_cast<int32_t>(run_starts.size());
}

// Encoded size in bytes of each candidate, without building it.
uint64_t PlainSize(const Column& c, RowIndex begin, RowIndex end) {
  RowIndex n = end - begin;
  PhysicalType p = c.type().physical();
  if (p == PhysicalType::kBool) return (n + 7) / 8;
  if (IsFixed(p)) return n * c.type().FixedWidth();
  return (n + 1) * 4 + (c.offsets()[end] - c.offsets()[begin]);
}

uint64_t RleSize(const Column& c, RowIndex begin, RowIndex end) {
  uint64_t runs = 0, value_bytes = 0;
  if (c.type().physical() == PhysicalType::kBytes) {
    ForEachRunStart(c, begin, end, [&](RowIndex i) {
      ++runs;
      value_bytes += c.GetBytes(i).size();
    });
  } else {
    ForEachRunStart(c, begin, end, [&](RowIndex) { ++runs; });
  }
  if (c.type().physical() == PhysicalType::kBytes) return runs * 4 + (runs + 1) * 4 + value_bytes;
  return runs * 4 + runs * c.type().FixedWidth();
}

uint64_t DictionarySize(const Distinct& d, RowIndex rows) {
  if (!d.viable) return UINT64_MAX;
  int width = d.index.empty() ? 0 : BitWidth(d.index.size() - 1);
  return (d.index.size() + 1) * 4 + d.bytes + BitPackedSize(rows, width);
}

void EncodeWith(const Column& c, RowIndex begin, RowIndex end, Encoding e, EncodedChunk* chunk,
                Distinct* distinct = nullptr) {
  chunk->layout.encoding = e;
  switch (e) {
    case Encoding::kPlain: EncodePlain(c, begin, end, chunk); break;
    case Encoding::kForBitpack: EncodeFor(c, begin, end, chunk); break;
    case Encoding::kDictionary:
      if (distinct != nullptr && distinct->viable) {
        EncodeDictionary(c, begin, end, *distinct, chunk);
      } else {
        EncodeDictionary(c, begin, end, FindDistinct(c, begin, end, /*give_up=*/false), chunk);
      }
      break;
    case Encoding::kRle: EncodeRle(c, begin, end, chunk); break;
  }
  chunk->stats = ComputeStats(c, begin, end);
}

// ---- Statistics ------------------------------------------------------------

StatValue MakeStat(const Column& c, RowIndex i) {
  StatValue s;
  switch (c.type().physical()) {
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      s.kind = StatValue::Kind::kDouble;
      s.double_value = c.GetDouble(i);
      break;
    case PhysicalType::kBytes:
      s.kind = StatValue::Kind::kBytes;
      s.bytes_value = std::string(c.GetBytes(i));
      break;
    case PhysicalType::kInt128: {
      s.kind = StatValue::Kind::kBytes;
      int128 v = c.GetInt128(i);
      s.bytes_value.assign(reinterpret_cast<const char*>(&v), 16);
      break;
    }
    default:
      s.kind = StatValue::Kind::kInt;
      s.int_value = c.GetInt(i);
  }
  return s;
}

}  // namespace

const char* EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain: return "plain";
    case Encoding::kDictionary: return "dictionary";
    case Encoding::kForBitpack: return "for-bitpack";
    case Encoding::kRle: return "rle";
  }
  return "unknown";
}

const char* CompressionName(Compression c) {
  return c == Compression::kZstd ? "zstd" : "none";
}

int BitWidth(uint64_t max_value) { return max_value == 0 ? 0 : 64 - __builtin_clzll(max_value); }

size_t BitPackedSize(size_t count, int width) {
  return (static_cast<uint64_t>(count) * width + 63) / 64 * 8;
}

void BitPack(const uint64_t* values, size_t count, int width, std::string* out) {
  size_t words = BitPackedSize(count, width) / 8;
  std::vector<uint64_t> packed(words, 0);
  if (width > 0) {
    for (size_t i = 0; i < count; ++i) {
      uint64_t bit = static_cast<uint64_t>(i) * width;
      size_t word = bit / 64;
      int shift = static_cast<int>(bit % 64);
      packed[word] |= values[i] << shift;
      if (shift + width > 64) packed[word + 1] |= values[i] >> (64 - shift);
    }
  }
  for (uint64_t w : packed) PutLE<uint64_t>(out, w);
}

void BitUnpack(const uint8_t* words, size_t count, int width, uint64_t* out) {
  if (width == 0) {
    std::fill(out, out + count, 0);
    return;
  }
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  for (size_t i = 0; i < count; ++i) {
    uint64_t bit = static_cast<uint64_t>(i) * width;
    size_t word = bit / 64;
    int shift = static_cast<int>(bit % 64);
    uint64_t v = GetLE<uint64_t>(words + word * 8) >> shift;
    if (shift + width > 64) v |= GetLE<uint64_t>(words + (word + 1) * 8) << (64 - shift);
    out[i] = v & mask;
  }
}

ChunkStats ComputeStats(const Column& c, RowIndex begin, RowIndex end) {
  ChunkStats stats;
  if (IsSmallInt(c.type().physical()) || c.type().physical() == PhysicalType::kBool) {
    // Typed fast path: plain integer comparisons.
    bool any = false;
    int64_t lo = 0, hi = 0;
    for (RowIndex i = begin; i < end; ++i) {
      if (!c.IsValid(i)) {
        ++stats.null_count;
        continue;
      }
      int64_t v = c.GetInt(i);
      if (!any) {
        lo = hi = v;
        any = true;
      } else {
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    }
    if (any) {
      stats.min = StatValue{StatValue::Kind::kInt, lo, 0, {}};
      stats.max = StatValue{StatValue::Kind::kInt, hi, 0, {}};
    }
    return stats;
  }
  RowIndex lo = -1, hi = -1;
  // Rows with the least and greatest value under `key` (an order-preserving
  // mapping), NULLs skipped.
  auto scan = [&](auto key) {
    decltype(key(begin)) klo{}, khi{};
    for (RowIndex i = begin; i < end; ++i) {
      if (!c.IsValid(i)) {
        ++stats.null_count;
        continue;
      }
      const auto k = key(i);
      if (lo < 0) {
        lo = hi = i;
        klo = khi = k;
        continue;
      }
      if (k < klo) lo = i, klo = k;
      if (k > khi) hi = i, khi = k;
    }
  };
  switch (c.type().physical()) {
    case PhysicalType::kDouble:
      scan([&](RowIndex i) {  // the total order of FORMAT.md §4.3
        int64_t b;
        std::memcpy(&b, c.fixed_data() + 8 * i, 8);
        return b ^ ((b >> 63) & INT64_MAX);
      });
      break;
    case PhysicalType::kFloat:
      scan([&](RowIndex i) {
        int64_t b;
        const double d = c.GetDouble(i);
        std::memcpy(&b, &d, 8);
        return b ^ ((b >> 63) & INT64_MAX);
      });
      break;
    case PhysicalType::kBytes: scan([&](RowIndex i) { return c.GetBytes(i); }); break;
    default:
      for (RowIndex i = begin; i < end; ++i) {
        if (!c.IsValid(i)) {
          ++stats.null_count;
          continue;
        }
        if (lo < 0) {
          lo = hi = i;
          continue;
        }
        if (c.CompareValues(i, c, lo) < 0) lo = i;
        if (c.CompareValues(i, c, hi) > 0) hi = i;
      }
  }
  if (lo >= 0) {
    bool bytes = c.type().physical() == PhysicalType::kBytes;
    if (!bytes || c.GetBytes(lo).size() <= kMaxStatBytes) stats.min = MakeStat(c, lo);
    if (!bytes || c.GetBytes(hi).size() <= kMaxStatBytes) stats.max = MakeStat(c, hi);
  }
  return stats;
}

EncodedChunk EncodeChunk(const Column& c, RowIndex begin, RowIndex end) {
  PhysicalType p = c.type().physical();
  Encoding best = Encoding::kPlain;
  uint64_t best_size = PlainSize(c, begin, end);
  auto consider = [&](Encoding e, uint64_t size) {
    if (size < best_size) {
      best = e;
      best_size = size;
    }
  };
  if (IsSmallInt(p)) {
    // One pass for both candidates: range (FOR) and runs (RLE).
    bool any = false;
    int64_t lo = 0, hi = 0, prev = 0;
    uint64_t runs = 0;
    for (RowIndex i = begin; i < end; ++i) {
      int64_t stored = c.GetInt(i);  // NULL slots hold 0
      if (i == begin || stored != prev) ++runs;
      prev = stored;
      if (!c.IsValid(i)) continue;
      lo = any ? std::min(lo, stored) : stored;
      hi = any ? std::max(hi, stored) : stored;
      any = true;
    }
    consider(Encoding::kForBitpack,
             BitPackedSize(end - begin, BitWidth(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo))));
    consider(Encoding::kRle, runs * 4 + runs * c.type().FixedWidth());
  }
  Distinct distinct;
  if (!IsSmallInt(p)) {
    if (p == PhysicalType::kBytes) {
      distinct = FindDistinct(c, begin, end, /*give_up=*/true);
      consider(Encoding::kDictionary, DictionarySize(distinct, end - begin));
    }
    consider(Encoding::kRle, RleSize(c, begin, end));
  }
  EncodedChunk chunk;
  EncodeWith(c, begin, end, best, &chunk, &distinct);
  return chunk;
}

absl::StatusOr<EncodedChunk> EncodeChunkAs(const Column& c, RowIndex begin, RowIndex end,
                                           Encoding e) {
  if (!Applies(c.type().physical(), e)) {
    return absl::InvalidArgumentError(StrCat("encoding ", EncodingName(e),
                                                   " does not apply to ", c.type().ToString()));
  }
  EncodedChunk chunk;
  EncodeWith(c, begin, end, e, &chunk);
  return chunk;
}

// ---- Decoding ----------------------------------------------------------------

namespace {

class ChunkReader {
 public:
  ChunkReader(const ChunkLayout& layout, std::string_view bytes) : layout_(layout), bytes_(bytes) {}

  absl::Status CheckBufferCount(size_t expected) const {
    if (layout_.buffers.size() != expected) {
      return Corrupt(StrCat(EncodingName(layout_.encoding), " needs ", expected,
                                  " buffers, found ", layout_.buffers.size()));
    }
    for (size_t k = 0; k < expected; ++k) {
      const BufferRange& r = layout_.buffers[k];
      if (r.offset % kBufferAlignment != 0 || r.offset > bytes_.size() ||
          r.length > bytes_.size() - r.offset) {
        return Corrupt(StrCat("buffer ", k, " [", r.offset, ", +", r.length,
                                    ") is misaligned or outside the chunk of ", bytes_.size(),
                                    " bytes"));
      }
    }
    return absl::OkStatus();
  }
  const uint8_t* Data(size_t k) const {
    return reinterpret_cast<const uint8_t*>(bytes_.data()) + layout_.buffers[k].offset;
  }
  uint64_t Length(size_t k) const { return layout_.buffers[k].length; }
  absl::Status ExpectLength(size_t k, uint64_t expected, std::string_view what) const {
    if (Length(k) != expected) {
      return Corrupt(StrCat(what, " buffer has ", Length(k), " bytes, expected ", expected));
    }
    return absl::OkStatus();
  }

 private:
  const ChunkLayout& layout_;
  std::string_view bytes_;
};

// Reads `count + 1` u32 offsets starting at 0, non-decreasing, ending at `data_length`.
absl::Status CheckOffsets(const uint8_t* offsets, size_t count, uint64_t data_length,
                          std::string_view what) {
  uint32_t prev = GetLE<uint32_t>(offsets);
  if (prev != 0) return Corrupt(StrCat(what, " offsets do not start at 0"));
  for (size_t i = 1; i <= count; ++i) {
    uint32_t cur = GetLE<uint32_t>(offsets + 4 * i);
    if (cur < prev) return Corrupt(StrCat(what, " offsets decrease at entry ", i));
    prev = cur;
  }
  if (prev != data_length) {
    return Corrupt(StrCat(what, " offsets end at ", prev, " but the data has ", data_length,
                                " bytes"));
  }
  return absl::OkStatus();
}

// Narrows decoded int64 values into the column's physical width, checking range.
absl::Status StoreInts(const std::vector<int64_t>& values, const std::vector<uint8_t>& valid,
                       Column* out) {
  int w = out->type().FixedWidth();
  std::vector<uint8_t> raw(values.size() * w, 0);
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  if (w == 1) lo = INT8_MIN, hi = INT8_MAX;
  if (w == 2) lo = INT16_MIN, hi = INT16_MAX;
  if (w == 4) lo = INT32_MIN, hi = INT32_MAX;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!valid.empty() && !valid[i]) continue;
    int64_t v = values[i];
    if (v < lo || v > hi) {
      return Corrupt(StrCat("value ", v, " out of range for ", out->type().ToString()));
    }
    switch (w) {
      case 1: { int8_t x = static_cast<int8_t>(v); std::memcpy(&raw[i], &x, 1); break; }
      case 2: { int16_t x = static_cast<int16_t>(v); std::memcpy(&raw[2 * i], &x, 2); break; }
      case 4: { int32_t x = static_cast<int32_t>(v); std::memcpy(&raw[4 * i], &x, 4); break; }
      default: std::memcpy(&raw[8 * i], &v, 8);
    }
  }
  out->AppendFixedValues(raw.data(), static_cast<RowIndex>(values.size()),
                         valid.empty() ? nullptr : valid.data());
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeChunk(const ChunkLayout& layout, std::string_view bytes, RowIndex rows,
                         RowIndex null_count, Column* out) {
  const PhysicalType p = out->type().physical();
  const int w = out->type().FixedWidth();
  if (!Applies(p, layout.encoding)) {
    return Corrupt(StrCat("encoding ", EncodingName(layout.encoding), " used for ",
                                out->type().ToString()));
  }
  if (rows < 0 || null_count < 0 || null_count > rows) {
    return Corrupt(StrCat("null count ", null_count, " for ", rows, " rows"));
  }
  ChunkReader r(layout, bytes);
  size_t buffers = 0;
  switch (layout.encoding) {
    case Encoding::kPlain: buffers = p == PhysicalType::kBytes ? 3 : 2; break;
    case Encoding::kForBitpack: buffers = 2; break;
    case Encoding::kDictionary: buffers = 4; break;
    case Encoding::kRle: buffers = p == PhysicalType::kBytes ? 4 : 3; break;
  }
  RETL_RETURN_IF_ERROR(r.CheckBufferCount(buffers));

  // Validity (FORMAT.md §5.1).
  std::vector<uint8_t> valid;
  if (null_count > 0) {
    RETL_RETURN_IF_ERROR(r.ExpectLength(0, (rows + 7) / 8, "validity"));
    valid.resize(rows);
    RowIndex nulls = 0;
    const uint8_t* bits = r.Data(0);
    for (RowIndex i = 0; i < rows; ++i) {
      valid[i] = (bits[i / 8] >> (i % 8)) & 1;
      nulls += !valid[i];
    }
    if (nulls != null_count) {
      return Corrupt(StrCat("validity bitmap has ", nulls, " NULLs, statistics say ",
                                  null_count));
    }
  } else {
    RETL_RETURN_IF_ERROR(r.ExpectLength(0, 0, "validity"));
  }
  auto is_valid = [&](RowIndex i) { return valid.empty() || valid[i]; };

  switch (layout.encoding) {
    case Encoding::kPlain: {
      if (p == PhysicalType::kBool) {
        RETL_RETURN_IF_ERROR(r.ExpectLength(1, (rows + 7) / 8, "boolean"));
        std::vector<uint8_t> raw(rows);
        const uint8_t* bits = r.Data(1);
        for (RowIndex i = 0; i < rows; ++i) raw[i] = is_valid(i) ? (bits[i / 8] >> (i % 8)) & 1 : 0;
        out->AppendFixedValues(raw.data(), rows, valid.empty() ? nullptr : valid.data());
      } else if (p != PhysicalType::kBytes) {
        RETL_RETURN_IF_ERROR(r.ExpectLength(1, static_cast<uint64_t>(rows) * w, "values"));
        std::vector<uint8_t> raw(r.Data(1), r.Data(1) + rows * w);
        for (RowIndex i = 0; i < rows; ++i) {
          if (!is_valid(i)) std::memset(&raw[i * w], 0, w);
        }
        out->AppendFixedValues(raw.data(), rows, valid.empty() ? nullptr : valid.data());
      } else {
        RETL_RETURN_IF_ERROR(r.ExpectLength(1, (static_cast<uint64_t>(rows) + 1) * 4, "offsets"));
        RETL_RETURN_IF_ERROR(CheckOffsets(r.Data(1), rows, r.Length(2), "string"));
        const char* data = reinterpret_cast<const char*>(r.Data(2));
        for (RowIndex i = 0; i < rows; ++i) {
          uint32_t a = GetLE<uint32_t>(r.Data(1) + 4 * i), b = GetLE<uint32_t>(r.Data(1) + 4 * i + 4);
          if (is_valid(i)) {
            out->AppendBytes(std::string_view(data + a, b - a));
          } else {
            out->AppendNull();
          }
        }
      }
      return absl::OkStatus();
    }
    case Encoding::kForBitpack: {
      if (layout.bit_width < 0 || layout.bit_width > 64) {
        return Corrupt(StrCat("bit width ", layout.bit_width));
      }
      RETL_RETURN_IF_ERROR(r.ExpectLength(1, BitPackedSize(rows, layout.bit_width), "packed"));
      std::vector<uint64_t> deltas(rows);
      BitUnpack(r.Data(1), rows, layout.bit_width, deltas.data());
      std::vector<int64_t> values(rows);
      for (RowIndex i = 0; i < rows; ++i) {
        values[i] = is_valid(i) ? static_cast<int64_t>(static_cast<uint64_t>(layout.reference) +
                                                       deltas[i])
                                : 0;
      }
      return StoreInts(values, valid, out);
    }
    case Encoding::kDictionary: {
      int64_t d = layout.dictionary_size;
      if (d < 0 || d > rows) return Corrupt(StrCat("dictionary size ", d, " for ", rows, " rows"));
      if (layout.bit_width < 0 || layout.bit_width > 32) {
        return Corrupt(StrCat("bit width ", layout.bit_width));
      }
      RETL_RETURN_IF_ERROR(r.ExpectLength(1, (static_cast<uint64_t>(d) + 1) * 4, "dictionary offsets"));
      RETL_RETURN_IF_ERROR(CheckOffsets(r.Data(1), d, r.Length(2), "dictionary"));
      RETL_RETURN_IF_ERROR(r.ExpectLength(3, BitPackedSize(rows, layout.bit_width), "codes"));
      const char* data = reinterpret_cast<const char*>(r.Data(2));
      auto entry = [&](int64_t k) {
        uint32_t a = GetLE<uint32_t>(r.Data(1) + 4 * k), b = GetLE<uint32_t>(r.Data(1) + 4 * k + 4);
        return std::string_view(data + a, b - a);
      };
      for (int64_t k = 1; k < d; ++k) {
        if (!(entry(k - 1) < entry(k))) {
          return Corrupt(StrCat("dictionary entries not sorted and distinct at entry ", k));
        }
      }
      std::vector<uint64_t> codes(rows);
      BitUnpack(r.Data(3), rows, layout.bit_width, codes.data());
      for (RowIndex i = 0; i < rows; ++i) {
        if (!is_valid(i)) {
          out->AppendNull();
          continue;
        }
        if (codes[i] >= static_cast<uint64_t>(d)) {
          return Corrupt(StrCat("dictionary code ", codes[i], " at row ", i,
                                      " but the dictionary has ", d, " entries"));
        }
        out->AppendBytes(entry(static_cast<int64_t>(codes[i])));
      }
      return absl::OkStatus();
    }
    case Encoding::kRle: {
      int64_t runs = layout.run_count;
      if (runs < 0 || runs > rows || (rows > 0 && runs == 0)) {
        return Corrupt(StrCat("run count ", runs, " for ", rows, " rows"));
      }
      RETL_RETURN_IF_ERROR(r.ExpectLength(1, static_cast<uint64_t>(runs) * 4, "run ends"));
      uint32_t prev = 0;
      for (int64_t k = 0; k < runs; ++k) {
        uint32_t e = GetLE<uint32_t>(r.Data(1) + 4 * k);
        if (e <= prev || e > rows) return Corrupt(StrCat("run end ", e, " at run ", k));
        prev = e;
      }
      if (runs > 0 && prev != rows) {
        return Corrupt(StrCat("runs cover ", prev, " rows, expected ", rows));
      }
      if (p == PhysicalType::kBytes) {
        RETL_RETURN_IF_ERROR(r.ExpectLength(2, (static_cast<uint64_t>(runs) + 1) * 4, "run offsets"));
        RETL_RETURN_IF_ERROR(CheckOffsets(r.Data(2), runs, r.Length(3), "run value"));
        const char* data = reinterpret_cast<const char*>(r.Data(3));
        RowIndex i = 0;
        for (int64_t k = 0; k < runs; ++k) {
          uint32_t a = GetLE<uint32_t>(r.Data(2) + 4 * k), b = GetLE<uint32_t>(r.Data(2) + 4 * k + 4);
          std::string_view v(data + a, b - a);
          for (uint32_t e = GetLE<uint32_t>(r.Data(1) + 4 * k); i < e; ++i) {
            if (is_valid(i)) {
              out->AppendBytes(v);
            } else {
              out->AppendNull();
            }
          }
        }
        return absl::OkStatus();
      }
      RETL_RETURN_IF_ERROR(r.ExpectLength(2, static_cast<uint64_t>(runs) * w, "run values"));
      std::vector<uint8_t> raw(rows * w, 0);
      RowIndex i = 0;
      for (int64_t k = 0; k < runs; ++k) {
        const uint8_t* v = r.Data(2) + k * w;
        if (p == PhysicalType::kBool && *v > 1) {
          return Corrupt(StrCat("boolean run value ", static_cast<int>(*v)));
        }
        for (uint32_t e = GetLE<uint32_t>(r.Data(1) + 4 * k); i < e; ++i) {
          if (is_valid(i)) std::memcpy(&raw[i * w], v, w);
        }
      }
      out->AppendFixedValues(raw.data(), rows, valid.empty() ? nullptr : valid.data());
      return absl::OkStatus();
    }
  }
  return Corrupt("unknown encoding");
}

}  // namespace retl
