#include "format/encoding.h"

#include <gtest/gtest.h>

#include <random>

#include "format/test_util.h"

namespace retl {
namespace {

using testing::AllTypes;
using testing::RandomColumn;

const Encoding kAll[] = {Encoding::kPlain, Encoding::kDictionary, Encoding::kForBitpack,
                         Encoding::kRle};

TEST(BitPackTest, RoundTripsEveryWidth) {
  std::mt19937_64 rng(1);
  for (int width = 0; width <= 64; ++width) {
    for (size_t count : {0, 1, 7, 63, 64, 65, 1000}) {
      std::vector<uint64_t> values(count);
      uint64_t mask = width == 64 ? ~0ull : ((1ull << width) - 1);
      for (auto& v : values) v = rng() & mask;
      std::string packed;
      BitPack(values.data(), count, width, &packed);
      ASSERT_EQ(packed.size(), BitPackedSize(count, width));
      std::vector<uint64_t> back(count);
      BitUnpack(reinterpret_cast<const uint8_t*>(packed.data()), count, width, back.data());
      ASSERT_EQ(back, values) << "width " << width << " count " << count;
    }
  }
}

TEST(BitPackTest, LayoutIsLsbFirstLittleEndian) {
  // FORMAT.md §5.2 worked example: values 1, 2, 3 at width 2 -> bits 01 10 11.
  uint64_t values[] = {1, 2, 3};
  std::string packed;
  BitPack(values, 3, 2, &packed);
  ASSERT_EQ(packed.size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(packed[0]), 0b00111001);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(packed[i], 0);
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(~0ull), 64);
}

TEST(EncodingTest, EveryApplicableEncodingRoundTripsEveryType) {
  std::mt19937_64 rng(42);
  for (const DataType& type : AllTypes()) {
    for (int shape = 0; shape < 4; ++shape) {
      for (double nulls : {0.0, 0.2, 1.0}) {
        for (RowIndex rows : {1, 5, 100, 3000}) {
          Column col = RandomColumn(type, rows, rng, shape, nulls);
          for (Encoding e : kAll) {
            auto chunk = EncodeChunkAs(col, 0, rows, e);
            if (!chunk.ok()) continue;  // not applicable to this type
            Column back(type);
            absl::Status s =
                DecodeChunk(chunk->layout, chunk->bytes, rows, chunk->stats.null_count, &back);
            ASSERT_TRUE(s.ok()) << type.ToString() << " " << EncodingName(e) << ": " << s;
            ASSERT_TRUE(back.Equals(col)) << type.ToString() << " " << EncodingName(e)
                                          << " shape " << shape << " nulls " << nulls;
          }
        }
      }
    }
  }
}

TEST(EncodingTest, EncodesASliceOnly) {
  std::mt19937_64 rng(7);
  Column col = RandomColumn(DataType::Of(TypeId::kString), 500, rng, 1, 0.1);
  EncodedChunk chunk = EncodeChunk(col, 100, 300);
  Column back(col.type());
  ASSERT_TRUE(DecodeChunk(chunk.layout, chunk.bytes, 200, chunk.stats.null_count, &back).ok());
  EXPECT_TRUE(back.Equals(col.Slice(100, 300)));
}

TEST(EncodingTest, ChoosesCompactEncodings) {
  Column ints(DataType::Of(TypeId::kBigInt));
  for (int i = 0; i < 1000; ++i) ints.AppendInt(1000000 + i % 16);
  EXPECT_EQ(EncodeChunk(ints, 0, 1000).layout.encoding, Encoding::kForBitpack);
  EXPECT_EQ(EncodeChunk(ints, 0, 1000).layout.bit_width, 4);

  Column strings(DataType::Of(TypeId::kString));
  for (int i = 0; i < 1000; ++i) strings.AppendBytes(i % 3 == 0 ? "free" : "enterprise");
  EncodedChunk dict = EncodeChunk(strings, 0, 1000);
  EXPECT_EQ(dict.layout.encoding, Encoding::kDictionary);
  EXPECT_EQ(dict.layout.dictionary_size, 2);

  Column runs(DataType::Of(TypeId::kDouble));
  for (int i = 0; i < 1000; ++i) runs.AppendDouble(i < 500 ? 1.5 : 2.5);
  EXPECT_EQ(EncodeChunk(runs, 0, 1000).layout.encoding, Encoding::kRle);
  EXPECT_EQ(EncodeChunk(runs, 0, 1000).layout.run_count, 2);

  Column unique(DataType::Of(TypeId::kString));
  for (int i = 0; i < 1000; ++i) unique.AppendBytes("user" + std::to_string(i) + "@example.com");
  EXPECT_EQ(EncodeChunk(unique, 0, 1000).layout.encoding, Encoding::kPlain);
}

TEST(EncodingTest, StatisticsIgnoreNullsAndSkipLongStrings) {
  Column c(DataType::Of(TypeId::kInt));
  c.AppendNull();
  c.AppendInt(5);
  c.AppendInt(-3);
  c.AppendNull();
  ChunkStats s = ComputeStats(c, 0, 4);
  EXPECT_EQ(s.null_count, 2);
  ASSERT_TRUE(s.min && s.max);
  EXPECT_EQ(s.min->int_value, -3);
  EXPECT_EQ(s.max->int_value, 5);

  Column all_null(DataType::Of(TypeId::kInt));
  all_null.AppendNull();
  EXPECT_FALSE(ComputeStats(all_null, 0, 1).min.has_value());

  Column str(DataType::Of(TypeId::kString));
  str.AppendBytes("a");
  str.AppendBytes(std::string(100, 'z'));
  ChunkStats ss = ComputeStats(str, 0, 2);
  ASSERT_TRUE(ss.min.has_value());
  EXPECT_EQ(ss.min->bytes_value, "a");
  EXPECT_FALSE(ss.max.has_value());
}

// Structural damage the checksum would not catch if the writer were buggy:
// the decoder must reject it rather than read out of bounds.
TEST(EncodingTest, RejectsMalformedLayouts) {
  Column col(DataType::Of(TypeId::kString));
  for (int i = 0; i < 100; ++i) col.AppendBytes(i % 2 ? "x" : "yy");
  EncodedChunk good = EncodeChunkAs(col, 0, 100, Encoding::kDictionary).value();
  auto decode = [&](const ChunkLayout& layout, std::string bytes, RowIndex rows, RowIndex nulls) {
    Column out(col.type());
    return DecodeChunk(layout, bytes, rows, nulls, &out);
  };
  ASSERT_TRUE(decode(good.layout, good.bytes, 100, 0).ok());

  ChunkLayout l = good.layout;
  l.buffers.pop_back();
  EXPECT_EQ(decode(l, good.bytes, 100, 0).code(), absl::StatusCode::kDataLoss);
  l = good.layout;
  l.buffers[2].length += 1000;
  EXPECT_EQ(decode(l, good.bytes, 100, 0).code(), absl::StatusCode::kDataLoss);
  l = good.layout;
  l.dictionary_size = 1;  // codes reach 1 -> out of range
  EXPECT_EQ(decode(l, good.bytes, 100, 0).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode(good.layout, good.bytes, 100, 5).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(decode(good.layout, good.bytes, 200, 0).code(), absl::StatusCode::kDataLoss);
  l = good.layout;
  l.bit_width = 40;
  EXPECT_EQ(decode(l, good.bytes, 100, 0).code(), absl::StatusCode::kDataLoss);
  l = good.layout;
  l.encoding = Encoding::kForBitpack;  // not for strings
  EXPECT_EQ(decode(l, good.bytes, 100, 0).code(), absl::StatusCode::kDataLoss);

  // Unsorted dictionary.
  std::string bad = good.bytes;
  size_t dict_at = good.layout.buffers[2].offset;
  std::swap(bad[dict_at], bad[dict_at + 1]);  // "xyy" -> "yxy": entries "y","xy"
  EXPECT_EQ(decode(good.layout, bad, 100, 0).code(), absl::StatusCode::kDataLoss);

  // RLE run ends must increase and cover all rows.
  Column ints(DataType::Of(TypeId::kInt));
  for (int i = 0; i < 10; ++i) ints.AppendInt(i / 5);
  EncodedChunk rle = EncodeChunkAs(ints, 0, 10, Encoding::kRle).value();
  std::string b = rle.bytes;
  b[rle.layout.buffers[1].offset + 4] = 3;  // second run ends at 3 < 5
  Column out(ints.type());
  EXPECT_EQ(DecodeChunk(rle.layout, b, 10, 0, &out).code(), absl::StatusCode::kDataLoss);

  // FOR values out of range for a narrow type.
  Column small(DataType::Of(TypeId::kTinyInt));
  small.AppendInt(-128);
  small.AppendInt(127);
  EncodedChunk f = EncodeChunkAs(small, 0, 2, Encoding::kForBitpack).value();
  f.layout.reference = 100;
  Column out2(small.type());
  EXPECT_EQ(DecodeChunk(f.layout, f.bytes, 2, 0, &out2).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace retl
