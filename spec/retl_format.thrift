/*
 * rETL DB on-disk metadata, format version 1 (spec/FORMAT.md, Appendix A).
 *
 * Every metadata body in a segment footer (FORMAT.md §6.4) and in a manifest
 * (FORMAT.md §7.2) is one of these structs serialized with the Thrift compact
 * protocol. Field ids are part of the format: never reuse or renumber one.
 * Readers skip fields they do not know, so adding an optional field is a
 * compatible change; anything a reader must understand goes through
 * `required_features` instead.
 */
namespace cpp retl.fmt

/* Logical types (FORMAT.md §4.1). */
enum Type {
  BOOLEAN = 1,
  TINYINT = 2,
  SMALLINT = 3,
  INT = 4,
  BIGINT = 5,
  FLOAT = 6,
  DOUBLE = 7,
  DECIMAL = 8,
  STRING = 9,
  BINARY = 10,
  DATE = 11,
  TIMESTAMP = 12,
}

/* Column chunk encodings (FORMAT.md §5). */
enum Encoding {
  PLAIN = 0,
  DICTIONARY = 1,
  FOR_BITPACK = 2,
  RLE = 3,
}

/* Column chunk compression (FORMAT.md §5.6). */
enum Compression {
  NONE = 0,
  ZSTD = 1,
}

struct Field {
  1: required string name
  2: required Type type
  3: optional i32 precision     /* DECIMAL only */
  4: optional i32 scale         /* DECIMAL only */
  5: required bool nullable
}

/* A secondary index of a table (FORMAT.md §12.1). */
struct IndexDef {
  1: required string name
  2: required list<i32> columns            /* field indices, key order */
}

/* A table's schema (FORMAT.md §3.2). */
struct TableSchema {
  1: required list<Field> fields
  2: required list<i32> primary_key        /* field indices, key order */
  3: optional i32 partition_column         /* field index */
  4: optional list<IndexDef> indexes       /* secondary indexes (FORMAT.md §12) */
}

/*
 * A statistics value (FORMAT.md §6.3): exactly one field is set, chosen by
 * the physical type: int_value for BOOLEAN and integer-like types up to 64
 * bits, double_value for FLOAT and DOUBLE, bytes_value for STRING, BINARY and
 * DECIMAL(p>18) (16 bytes, two's complement, little-endian).
 */
struct StatValue {
  1: optional i64 int_value
  2: optional double double_value
  3: optional binary bytes_value
}

struct ColumnStats {
  1: required i64 null_count
  2: optional StatValue min      /* absent: all NULL, or a string over 64 bytes */
  3: optional StatValue max
}

/* A buffer inside a column chunk's uncompressed bytes (FORMAT.md §5.1). */
struct BufferRef {
  1: required i64 offset         /* from the start of the uncompressed chunk, 8-aligned */
  2: required i64 length
}

/* One column of one block (FORMAT.md §6.2). */
struct ColumnChunk {
  1: required Encoding encoding
  2: required Compression compression
  3: required i64 offset               /* in the file, 64-aligned */
  4: required i64 stored_length        /* bytes in the file */
  5: required i64 uncompressed_length
  6: required i64 checksum             /* XXH64(seed 0) of the stored bytes */
  7: required list<BufferRef> buffers
  8: required ColumnStats stats
  9: optional i32 bit_width            /* FOR_BITPACK, DICTIONARY codes */
  10: optional i64 reference           /* FOR_BITPACK minimum */
  11: optional i32 dictionary_size     /* DICTIONARY */
  12: optional i32 run_count           /* RLE */
}

struct Block {
  1: required i64 first_row
  2: required i32 row_count
  3: required list<ColumnChunk> columns   /* one per schema field, in order */
}

/* The metadata of a segment file (FORMAT.md §6.4). */
struct SegmentFooter {
  1: required i32 format_version
  2: required TableSchema schema
  3: required i64 row_count
  4: required list<Block> blocks
  5: optional list<string> required_features
  6: optional string created_by
}

/* The index file of a segment (FORMAT.md §12.3). */
struct IndexFileEntry {
  1: required string path              /* data/<created_version:020>-<seq:06>.idx */
  2: required i64 size
  3: required i64 checksum             /* XXH64(seed 0) of the whole file */
  4: required i64 created_version
}

/* A segment file referenced by a manifest (FORMAT.md §7.2). */
struct SegmentEntry {
  1: required string path              /* relative to the dataset directory */
  2: required i64 size                 /* bytes */
  3: required i64 row_count
  4: required i64 checksum             /* XXH64(seed 0) of the whole file */
  5: required i64 created_version
  6: optional IndexFileEntry index     /* FORMAT.md §12; absent: no indexes */
}

struct PartitionEntry {
  /* Canonical text of the partition column's value (FORMAT.md §4.2).
   * Absent: the NULL partition of a partitioned table, or the single default
   * partition of an unpartitioned one. */
  1: optional string value
  2: required list<SegmentEntry> segments
}

struct TableEntry {
  1: required string name
  2: required TableSchema schema
  3: required list<PartitionEntry> partitions
  4: required i64 created_version
  5: required i64 modified_version
}

/* One immutable version of a dataset (FORMAT.md §7). */
/* One input file a version was built from (FORMAT.md §7.2, lineage). */
struct InputFile {
  1: required string path      /* as given to the import, informative */
  2: required i64 size
  3: required i64 checksum     /* XXH64 (seed 0) of the file's bytes as stored */
  4: optional string table_name
}

struct Manifest {
  1: required i32 format_version
  2: required i64 version
  3: required i64 parent_version       /* 0 for version 1 */
  4: required i64 commit_time_micros   /* UTC, never below the parent's */
  5: required string operation
  6: optional string message
  7: required list<TableEntry> tables
  8: optional list<string> required_features
  9: optional string created_by
  10: optional string summary         /* what changed, for `versions` */
  11: optional string source          /* the user's --source label, e.g. a warehouse export id */
  12: optional list<InputFile> inputs  /* lineage: the files this version's change was built from */
}

/* A byte range of an index file (FORMAT.md §12.3): 8-aligned, inside the file. */
struct IndexRegion {
  1: required i64 offset
  2: required i64 length
}

/* A split-block Bloom filter over the keys of a hash index (FORMAT.md §12.5). */
struct KeyFilter {
  1: required i64 block_count
  2: required IndexRegion blocks        /* block_count * 32 bytes */
}

/* A static hash index (FORMAT.md §12.4). */
struct HashIndex {
  1: required list<i32> columns         /* field indices, key order */
  2: optional string name               /* secondary indexes only */
  3: required i64 key_count
  4: required i64 row_count
  5: required i64 slot_count
  6: required i32 slot_bytes            /* 4 or 8 */
  7: required i32 payload_bits
  8: required IndexRegion slots
  9: optional IndexRegion group_starts  /* grouped indexes: u32 x (key_count + 1) */
  10: optional IndexRegion postings     /* grouped indexes: u32 x row_count */
  11: required KeyFilter filter
}

/* Normalized primary keys of every interval-th row (FORMAT.md §12.6). */
struct FenceIndex {
  1: required i32 interval
  2: required i64 count
  3: required IndexRegion offsets       /* u32 x (count + 1) */
  4: required IndexRegion keys
}

/* The metadata of an index file (FORMAT.md §12.3). */
struct IndexFooter {
  1: required i32 format_version
  2: required i64 row_count             /* the segment's */
  3: required i64 segment_checksum      /* XXH64 of the segment file */
  4: required HashIndex primary
  5: required FenceIndex fences
  6: required list<HashIndex> secondary /* one per TableSchema.indexes entry, same order */
  7: optional list<string> required_features
  8: optional string created_by
}
