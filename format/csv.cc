// CSV input (RFC 4180 with PostgreSQL's NULL conventions); see csv.h.
//
// A file is read whole into memory (decompressed), then split in place:
// fields are views into that buffer, and a quoted field with doubled quotes is
// unescaped by moving its bytes down inside the buffer, so splitting allocates
// nothing per record or field. Typed values go straight into the Columns via
// AppendParsedValue(). (Mapping plain files copy-on-write instead of reading
// them was measured: no faster, as the page faults cost what the copy saves.)
#include "format/csv.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "absl/strings/match.h"
#include "format/file_util.h"
#include "format/input_util.h"
#include "format/parallel.h"
#include "format/strings.h"
#include "format/text.h"
#include "retl/writer.h"

namespace retl {

namespace {

// How often ReadCsvFiles reports progress, in bytes of decompressed input.
constexpr int64_t kProgressInterval = 1 << 20;
// Inputs (after the header) at least this large are read on several threads
// when they can be (see CsvFileReader::Read).
constexpr int64_t kParallelBytes = 16 << 20;
// A compressed input inferred from a sample is decompressed this far past it
// (records that start in the sample end in it, unless longer than this).
constexpr uint64_t kSampleSlack = 1 << 20;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};
// Longest zstd frame header (ZSTD_FRAMEHEADERSIZE_MAX, not in the stable API).
constexpr size_t kMaxFrameHeader = 18;
// A compressed input's size before it is read is guessed as this many times
// its size on disk when its header does not say.
constexpr int64_t kGuessedCompressionRatio = 4;
// The largest decompressed/compressed ratio for which a size recorded in the
// compressed data is used to size the output buffer up front (a damaged or
// hostile header must not make us allocate gigabytes); beyond it the buffer
// grows as needed.
constexpr uint64_t kMaxTrustedRatio = 64;

// True if `declared`, a decompressed size read from compressed data of
// `compressed` bytes, is believable.
bool PlausibleSize(uint64_t declared, uint64_t compressed) {
  return declared >= compressed / 2 && declared <= compressed * kMaxTrustedRatio;
}

bool HasPrefix(std::string_view data, const unsigned char* magic, size_t n) {
  return data.size() >= n && std::memcmp(data.data(), magic, n) == 0;
}

InputCompression Detect(std::string_view head) {
  if (HasPrefix(head, kGzipMagic, sizeof(kGzipMagic))) return InputCompression::kGzip;
  if (HasPrefix(head, kZstdMagic, sizeof(kZstdMagic))) return InputCompression::kZstd;
  return InputCompression::kNone;
}

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};


absl::Status Damaged(const std::string& path, std::string_view codec, std::string_view reason) {
  return absl::InvalidArgumentError(StrCat(path, ": damaged ", codec, " data (", reason, ")"));
}

// The bytes of a file, read a piece at a time (a compressed input is never
// held whole). A file that is not a regular one (a pipe, as `--input
// <(zcat ...)` gives) can be read only once, so it is read whole at Open.
class FileSource {
 public:
  static absl::StatusOr<FileSource> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) return FileSource(path, fd);
    // Read from this descriptor: a pipe's writer may have only this reader.
    auto whole = ReadFileFrom(fd, path);
    ::close(fd);
    if (!whole.ok()) return whole.status();
    FileSource source(path, -1);
    source.buffer_ = *std::move(whole);
    return source;
  }
  FileSource(FileSource&& other) noexcept
      : path_(other.path_), fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)),
        head_(std::move(other.head_)), given_(other.given_) {}
  FileSource& operator=(FileSource&&) = delete;
  ~FileSource() {
    if (fd_ >= 0) ::close(fd_);
  }
  // A regular file (else it was read whole, and Take() has it).
  bool regular() const { return fd_ >= 0; }
  // The descriptor of a regular file (for mapping it).
  int fd() const { return fd_; }
  std::string Take() { return std::move(buffer_); }
  // The first bytes (for the magic numbers), without consuming them.
  std::string_view Head() {
    if (fd_ < 0) return std::string_view(buffer_).substr(0, kMaxFrameHeader);
    if (head_.empty()) {
      head_.resize(kMaxFrameHeader);
      const ssize_t n = ::pread(fd_, head_.data(), head_.size(), 0);
      head_.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    return head_;
  }
  // The next piece; empty at the end of the file.
  absl::StatusOr<std::string_view> Next() {
    if (fd_ < 0) {
      if (given_) return std::string_view();
      given_ = true;
      return std::string_view(buffer_);
    }
    buffer_.resize(kPiece);
    while (true) {
      const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n >= 0) return std::string_view(buffer_.data(), static_cast<size_t>(n));
      if (errno != EINTR) return ErrnoStatus("cannot read", path_, errno);
    }
  }

 private:
  static constexpr size_t kPiece = 4 << 20;
  FileSource(const std::string& path, int fd) : path_(path), fd_(fd) {}
  const std::string& path_;
  int fd_;
  std::string buffer_;  // the piece read last, or the whole of a file that is not regular
  std::string head_;
  bool given_ = false;
};

// Receives decompressed output, piece by piece, in order.
using OutputSink = std::function<absl::Status(std::string_view)>;
constexpr size_t kOutputPiece = 4 << 20;

// Decompresses the gzip members of `in` (all of them, as `cat a.gz b.gz`
// makes) into `sink`; stops once `limit` bytes went out, if it is not 0.
absl::Status Gunzip(const std::string& path, FileSource* in, const OutputSink& sink, uint64_t limit) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 32: the largest window, and a gzip (or zlib) header detected.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return absl::InternalError(StrCat(path, ": cannot initialise zlib"));
  }
  std::string out(kOutputPiece, '\0');
  bool eof = false;
  uint64_t produced = 0;
  absl::Status status;
  auto refill = [&]() -> absl::Status {
    if (zs.avail_in != 0 || eof) return absl::OkStatus();
    RETL_ASSIGN_OR_RETURN(std::string_view piece, in->Next());
    eof = piece.empty();
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    zs.avail_in = static_cast<uInt>(piece.size());
    return absl::OkStatus();
  };
  while (status.ok()) {
    status = refill();
    if (!status.ok()) break;
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int ret = inflate(&zs, Z_NO_FLUSH);
    const size_t n = out.size() - zs.avail_out;
    if (n > 0) {
      status = sink(std::string_view(out.data(), n));
      produced += n;
      if (!status.ok() || (limit > 0 && produced >= limit)) break;
    }
    if (ret == Z_STREAM_END) {
      status = refill();
      if (!status.ok() || (zs.avail_in == 0 && eof)) break;  // the last member
      // Another member follows: read it too.
      if (inflateReset(&zs) != Z_OK) status = absl::InternalError(StrCat(path, ": cannot reset zlib"));
    } else if (ret == Z_BUF_ERROR) {
      // No progress: the output is full (go on), more input is to be read,
      // or the input ended inside a member.
      if (zs.avail_out != 0 && zs.avail_in == 0 && eof) status = Damaged(path, "gzip", "unexpected end of data");
    } else if (ret != Z_OK) {
      status = Damaged(path, "gzip", zs.msg != nullptr ? zs.msg : "invalid data");
    }
  }
  inflateEnd(&zs);
  return status;
}

// The same for the zstd frames of `in`.
absl::Status Unzstd(const std::string& path, FileSource* in, const OutputSink& sink, uint64_t limit) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (dctx == nullptr) return absl::InternalError(StrCat(path, ": cannot initialise zstd"));
  std::string out(kOutputPiece, '\0');
  ZSTD_inBuffer input = {nullptr, 0, 0};
  bool eof = false, any = false;
  uint64_t produced = 0;
  size_t last = 0;  // 0 once a frame is complete, else a hint of the input still needed
  bool full = false;  // the last call filled the output (the decoder may hold more)
  while (true) {
    if (input.pos == input.size && !eof) {
      RETL_ASSIGN_OR_RETURN(std::string_view piece, in->Next());
      eof = piece.empty();
      any |= !eof;
      input = {piece.data(), piece.size(), 0};
    }
    if (input.pos == input.size && eof && !full && any) break;
    ZSTD_outBuffer output = {out.data(), out.size(), 0};
    last = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(last)) return Damaged(path, "zstd", ZSTD_getErrorName(last));
    if (output.pos > 0) {
      RETL_RETURN_IF_ERROR(sink(std::string_view(out.data(), output.pos)));
      produced += output.pos;
      if (limit > 0 && produced >= limit) return absl::OkStatus();
    }
    full = output.pos == output.size;
    // Done when all input is in and the decoder did not stop for lack of
    // output room (it then may hold more).
    if (input.pos == input.size && eof && !full) break;
  }
  if (last != 0 || !any) return Damaged(path, "zstd", "unexpected end of data");
  return absl::OkStatus();
}

// Decompresses `path` (`compression` is gzip or zstd) into `sink`.
absl::Status Decompress(const std::string& path, InputCompression compression, FileSource* in,
                        const OutputSink& sink, uint64_t limit = 0) {
  return compression == InputCompression::kGzip ? Gunzip(path, in, sink, limit)
                                                : Unzstd(path, in, sink, limit);
}

// A size for `path` after decompression, for progress before it is read:
// exact for plain files, from the gzip trailer or zstd frame header when they
// say, else a guess. Also fails early, before any work, for a missing file.
absl::StatusOr<int64_t> EstimateInputSize(const std::string& path, InputCompression compression) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot open", path, errno);
  if (S_ISDIR(st.st_mode)) return ErrnoStatus("cannot read", path, EISDIR);
  // A pipe (<(zcat ...), a FIFO) can be read only once, so it is not opened
  // here; its size is unknown until it is read.
  if (!S_ISREG(st.st_mode)) return 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  FdCloser closer(fd);
  const int64_t size = st.st_size;
  char head[kMaxFrameHeader];
  ssize_t n = ::pread(fd, head, sizeof(head), 0);
  if (n < 0) return ErrnoStatus("cannot read", path, errno);
  if (compression == InputCompression::kAuto) {
    compression = Detect(std::string_view(head, static_cast<size_t>(n)));
  }
  switch (compression) {
    case InputCompression::kGzip: {
      uint32_t isize;
      if (size >= 18 && ::pread(fd, &isize, 4, size - 4) == 4 && PlausibleSize(isize, size)) {
        return isize;
      }
      return size * kGuessedCompressionRatio;
    }
    case InputCompression::kZstd: {
      unsigned long long declared = ZSTD_getFrameContentSize(head, static_cast<size_t>(n));
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
          PlausibleSize(declared, size)) {
        return static_cast<int64_t>(declared);
      }
      return size * kGuessedCompressionRatio;
    }
    default:
      return size;
  }
}

absl::Status ValidateOptions(const CsvOptions& options) {
  auto is_line_end = [](char c) { return c == '\n' || c == '\r'; };
  if (is_line_end(options.delimiter) || is_line_end(options.quote)) {
    return absl::InvalidArgumentError("the CSV delimiter and quote cannot be a line break");
  }
  if (options.delimiter == options.quote) {
    return absl::InvalidArgumentError(
        StrCat("the CSV delimiter and quote must differ (both are '", std::string(1, options.quote),
               "')"));
  }
  return absl::OkStatus();
}

// `in` decompressed into memory: all of it, or about the first `limit` bytes.
absl::StatusOr<std::string> DecompressToMemory(const std::string& path, InputCompression compression, FileSource* in,
                                               uint64_t limit = 0) {
  // Sized up front from the size the data records (or a guess), so that the
  // output is rarely copied as it grows.
  std::string out;
  if (limit == 0) {
    if (auto size = EstimateInputSize(path, compression); size.ok()) out.reserve(static_cast<size_t>(*size) + 64);
  }
  RETL_RETURN_IF_ERROR(Decompress(path, compression, in, [&](std::string_view piece) {
    out.append(piece);
    return absl::OkStatus();
  }, limit));
  if (out.capacity() > out.size() + out.size() / 8 + (1 << 20)) out.shrink_to_fit();
  return out;
}

// A decompressed input, writable (the splitter unescapes quoted fields in
// place): an uncompressed file is mapped privately (copy on write), which
// spares copying it; a compressed one is decompressed into memory, or, given
// `temp_dir`, into an unnamed file there that is then mapped the same way (so
// that a large input need not fit in memory: pages come in as used, and
// ReleaseText gives them back).
class InputText {
 public:
  // `populate`: read the whole file in at once (else pages come in as used).
  // `limit` (in memory only): decompress only about the first `limit` bytes
  // (then truncated() is true if there was more).
  static absl::StatusOr<InputText> Read(const std::string& path, InputCompression compression,
                                        bool populate = true, const std::string& temp_dir = "",
                                        uint64_t limit = 0) {
    InputText t;
    RETL_ASSIGN_OR_RETURN(FileSource in, FileSource::Open(path));
    if (compression == InputCompression::kAuto) compression = Detect(in.Head());
    const bool compressed = compression == InputCompression::kGzip || compression == InputCompression::kZstd;
    if (!compressed && !in.regular()) {
      t.owned_ = in.Take();
      return t;
    }
    if (compressed && (temp_dir.empty() || limit > 0)) {
      // Into memory, all of it or about `limit` bytes.
      RETL_ASSIGN_OR_RETURN(t.owned_, DecompressToMemory(path, compression, &in, limit));
      t.truncated_ = limit > 0 && t.owned_.size() > limit;
      if (t.truncated_) {
        // Whole lines of the first `limit` bytes only.
        t.owned_.resize(limit);
        const size_t nl = t.owned_.rfind('\n');
        t.owned_.resize(nl == std::string::npos ? 0 : nl + 1);
      }
      return t;
    }
    int fd = -1;  // of the file to map: the input, or its decompressed text
    if (compressed) {
      fd = OpenUnnamedFile(temp_dir);
      if (fd < 0) return ErrnoStatus("cannot create a temporary file in", temp_dir, errno);
      absl::Status s = Decompress(path, compression, &in, [&](std::string_view piece) -> absl::Status {
        for (size_t done = 0; done < piece.size();) {
          const ssize_t n = ::write(fd, piece.data() + done, piece.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return ErrnoStatus("cannot write the decompressed input to", temp_dir, errno);
          done += static_cast<size_t>(n);
        }
        return absl::OkStatus();
      });
      if (!s.ok()) {
        ::close(fd);
        return s;
      }
    }
    struct stat st;
    void* map = MAP_FAILED;
    if (::fstat(compressed ? fd : in.fd(), &st) == 0 && st.st_size > 0) {
      map = ::mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
                   compressed ? fd : in.fd(), 0);
    }
    const int err = errno;
    if (fd >= 0) ::close(fd);  // a mapping keeps its file
    if (map != MAP_FAILED) {
      t.map_ = static_cast<char*>(map);
      t.map_size_ = static_cast<size_t>(st.st_size);
    } else if (!compressed) {
      RETL_ASSIGN_OR_RETURN(t.owned_, ReadFileFrom(in.fd(), path));  // empty, or a file system that cannot map
    } else if (st.st_size > 0) {
      return ErrnoStatus("cannot map the decompressed input in", temp_dir, err);
    }
    return t;
  }
  InputText(InputText&& other) noexcept
      : owned_(std::move(other.owned_)), map_(std::exchange(other.map_, nullptr)),
        map_size_(std::exchange(other.map_size_, 0)), truncated_(other.truncated_) {}
  InputText& operator=(InputText&&) = delete;
  ~InputText() {
    if (map_ != nullptr) ::munmap(map_, map_size_);
  }
  std::span<char> span() { return map_ != nullptr ? std::span<char>(map_, map_size_) : std::span<char>(owned_); }
  size_t size() const { return map_ != nullptr ? map_size_ : owned_.size(); }
  // Read with a limit, and the input goes on past it.
  bool truncated() const { return truncated_; }

 private:
  InputText() = default;
  std::string owned_;
  char* map_ = nullptr;
  size_t map_size_ = 0;
  bool truncated_ = false;
};

// One field of a record: a view into the (unescaped) input buffer.
struct CsvField {
  std::string_view text;
  bool quoted = false;
};

bool IsNull(const CsvField& field, const std::string& null_marker) {
  return !field.quoted && field.text == null_marker;
}

// A record of one empty unquoted field: a blank line, skipped in files with
// more than one column (see csv.h).
bool IsBlankLine(const std::vector<CsvField>& record) {
  return record.size() == 1 && !record[0].quoted && record[0].text.empty();
}

// Splits a CSV buffer into records. Unescapes quoted fields in place, so the
// buffer is modified.
class RecordSplitter {
 public:
  RecordSplitter(const std::string& path, std::span<char> text, const CsvOptions& options)
      : path_(path),
        begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        delimiter_(options.delimiter),
        quote_(options.quote),
        delimiter_pattern_(0x0101010101010101ULL * static_cast<unsigned char>(options.delimiter)) {
    static_assert(std::endian::native == std::endian::little, "FindDelimiterOrNewline");
    if (std::string_view(text.data(), text.size()).starts_with(kUtf8Bom)) p_ += kUtf8Bom.size();
  }
  // Records of [begin, end), which starts a record on physical line `line`.
  RecordSplitter(const std::string& path, char* begin, char* end, int64_t line, const CsvOptions& options)
      : path_(path),
        begin_(begin),
        p_(begin),
        end_(end),
        delimiter_(options.delimiter),
        quote_(options.quote),
        delimiter_pattern_(0x0101010101010101ULL * static_cast<unsigned char>(options.delimiter)),
        line_(line),
        record_line_(line) {}

  // Splits the next record into `fields`, views into the buffer. Returns false
  // at the end of the input, or on a malformed record (then status() says why).
  bool Next(std::vector<CsvField>* fields) {
    fields->clear();
    if (p_ == end_) return false;
    record_line_ = line_;
    while (true) {
      CsvField field;
      if (*p_ == quote_) {
        if (!ReadQuoted(&field, fields->size())) return false;
      } else {
        char* start = p_;
        p_ = FindDelimiterOrNewline(p_);
        size_t length = p_ - start;
        // CRLF line ends: the CR is not part of the field.
        if (length > 0 && start[length - 1] == '\r' && (p_ == end_ || *p_ == '\n')) --length;
        field.text = std::string_view(start, length);
      }
      fields->push_back(field);
      if (p_ == end_) return true;  // a last record without a line end
      if (*p_ == delimiter_) {
        if (++p_ == end_) {  // "a,b," at the very end: one more, empty field
          fields->push_back(CsvField{std::string_view(p_, 0), false});
          return true;
        }
        continue;
      }
      ++p_;  // '\n'
      ++line_;
      return true;
    }
  }

  const absl::Status& status() const { return status_; }
  // Physical line (1-based) where the last record returned by Next() starts.
  int64_t record_line() const { return record_line_; }
  // Bytes of the buffer consumed so far.
  int64_t offset() const { return p_ - begin_; }
  // Where the next record starts, and its physical line.
  char* position() const { return p_; }
  int64_t line() const { return line_; }

 private:
  // The first delimiter or '\n' at or after `p`, or end_. Looks at eight
  // bytes at a time (SWAR): a byte of w ^ pattern is zero where w matches, and
  // (x - 0x01..) & ~x & 0x80.. flags the lowest zero byte of x exactly (only
  // bytes above a zero byte can be flagged falsely).
  char* FindDelimiterOrNewline(char* p) const {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighs = 0x8080808080808080ULL;
    while (end_ - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      uint64_t x = w ^ delimiter_pattern_;
      uint64_t y = w ^ (kOnes * '\n');
      uint64_t hits = (((x - kOnes) & ~x) | ((y - kOnes) & ~y)) & kHighs;
      if (hits != 0) return p + (std::countr_zero(hits) >> 3);  // little-endian
      p += 8;
    }
    while (p != end_ && *p != delimiter_ && *p != '\n') ++p;
    return p;
  }

  // Reads a quoted field starting at the quote at p_.
  bool ReadQuoted(CsvField* field, size_t index) {
    char* start = ++p_;
    char* write = nullptr;  // end of the unescaped text, once it is moved
    while (true) {
      char* q = static_cast<char*>(std::memchr(p_, quote_, end_ - p_));
      if (q == nullptr) {
        status_ = absl::InvalidArgumentError(
            StrCat(path_, ":", record_line_, ": unterminated quoted field (field ", index + 1,
                   " opens a quote that is never closed)"));
        return false;
      }
      line_ += std::count(p_, q, '\n');
      if (write != nullptr) {
        std::memmove(write, p_, q - p_);
        write += q - p_;
      }
      p_ = q + 1;
      if (p_ != end_ && *p_ == quote_) {
        // A doubled quote is one quote character. The first time, the text
        // before it is already in place, with the quote at q.
        if (write == nullptr) {
          write = q + 1;
        } else {
          *write++ = quote_;
        }
        ++p_;
        continue;
      }
      char* text_end = write != nullptr ? write : q;
      field->text = std::string_view(start, text_end - start);
      field->quoted = true;
      break;
    }
    if (p_ == end_ || *p_ == delimiter_ || *p_ == '\n') return true;
    if (*p_ == '\r' && (p_ + 1 == end_ || p_[1] == '\n')) {
      ++p_;
      return true;
    }
    status_ = absl::InvalidArgumentError(
        StrCat(path_, ":", record_line_, ": field ", index + 1,
               " has text after its closing quote (a quote inside a quoted field must be "
               "doubled)"));
    return false;
  }

  const std::string& path_;
  const char* begin_;
  char* p_;
  char* end_;
  char delimiter_;
  char quote_;
  uint64_t delimiter_pattern_;  // the delimiter in every byte
  int64_t line_ = 1;
  int64_t record_line_ = 1;
  absl::Status status_;
};

// The number of '\n' in [p, end), eight bytes at a time: a byte of
// x = w ^ "\n\n..." is zero where w has a line end, and
// ~(((x & 0x7f..) + 0x7f..) | x) has the high bit of exactly those bytes set;
// moved to bit 0 of each byte and multiplied by 0x0101.., they add up in the
// top byte.
int64_t CountLineEnds(const char* p, const char* end) {
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  constexpr uint64_t kNewlines = 0x0a0a0a0a0a0a0a0aULL;
  int64_t n = 0;
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t x = w ^ kNewlines;
    const uint64_t hits = ~(((x & kLow7) + kLow7) | x | kLow7);
    n += static_cast<int64_t>(((hits >> 7) * 0x0101010101010101ULL) >> 56);
  }
  for (; p != end; ++p) n += *p == '\n';
  return n;
}

// Without any quote character every line end ends a record, so [rest, end)
// can be cut at line ends into pieces read on their own threads (with
// quotes, a line end may be inside a field). Returns false when the input is
// small, has a quote character or only one thread is to be used; else sets
// `cuts` (piece k is [cuts[k], cuts[k+1])) and the physical line each piece
// starts on (`line` is that of `rest`).
bool CutAtLineEnds(char* rest, char* end, int64_t line, const CsvOptions& options,
                   std::vector<char*>* cuts, std::vector<int64_t>* first_line,
                   int64_t min_bytes = kParallelBytes) {
  const int threads = ThreadCount(options.threads);
  if (threads <= 1 || end - rest < min_bytes || std::memchr(rest, options.quote, end - rest) != nullptr) {
    return false;
  }
  const size_t target = std::max<size_t>(min_bytes / 4, (end - rest) / (4 * threads));
  cuts->assign(1, rest);
  while (end - cuts->back() > static_cast<ptrdiff_t>(target)) {
    char* from = cuts->back() + target;
    char* nl = static_cast<char*>(std::memchr(from, '\n', end - from));
    if (nl == nullptr || nl + 1 == end) break;
    cuts->push_back(nl + 1);
  }
  cuts->push_back(end);
  const size_t pieces = cuts->size() - 1;
  first_line->assign(pieces + 1, line);
  ParallelFor(pieces, threads, [&](size_t k) { (*first_line)[k + 1] = CountLineEnds((*cuts)[k], (*cuts)[k + 1]); });
  for (size_t k = 0; k < pieces; ++k) (*first_line)[k + 1] += (*first_line)[k];
  return true;
}

// Rows in `text`, estimated from the line ends in its first megabyte.
RowIndex EstimateRows(std::string_view text, int64_t total_bytes) {
  size_t sample = std::min<size_t>(text.size(), 1 << 20);
  int64_t lines = std::count(text.begin(), text.begin() + sample, '\n');
  if (lines == 0) return 1;
  return static_cast<RowIndex>(static_cast<double>(total_bytes) * lines / sample * 1.05) + 16;
}

absl::Status ReadFileHeader(const std::string& path, RecordSplitter* splitter,
                            std::vector<CsvField>* record) {
  if (splitter->Next(record)) return absl::OkStatus();
  RETL_RETURN_IF_ERROR(splitter->status());
  return absl::InvalidArgumentError(
      StrCat(path, ": the file is empty, but a header line naming the columns was expected"));
}

// Reads the records of one decompressed file into `data`.
class CsvFileReader {
 public:
  CsvFileReader(const std::vector<Field>& fields, const CsvOptions& options,
                const std::vector<std::optional<Column>>& constants, CsvData* data)
      : fields_(fields), options_(options), constants_(constants), data_(data) {}

  // `bytes_before` and `total_bytes` are for progress.
  absl::Status Read(int file, std::span<char> text, int64_t bytes_before, int64_t total_bytes,
                    const CsvProgress& progress);
  // Gives the rows read so far to `add` once they take `batch_bytes` (with
  // `force`, whatever they take), and starts a new batch.
  void SetBatches(int64_t batch_bytes, const CsvBatchAdd* add) {
    batch_bytes_ = batch_bytes;
    add_ = add;
  }
  absl::Status Emit(bool force);

 private:
  // Reads the records `splitter` gives into `columns` (of `fields`), and
  // their sources; calls `progress` (if set) with the splitter's offset now
  // and then.
  absl::Status ReadRecords(int file, RecordSplitter* splitter, const std::vector<const Field*>& fields,
                           const std::vector<Column*>& columns, std::vector<RowSource>* sources,
                           const std::function<void(int64_t)>& progress,
                           const std::function<absl::Status()>& every = {}, RowIndex expected_rows = 0);
  // Appends constants to the fields the file does not have, up to the rows read.
  void FillConstants();
  // Maps the header's names to fields; sets targets_.
  absl::Status MapHeader(const std::string& path, const std::vector<CsvField>& header);

  const std::vector<Field>& fields_;
  const CsvOptions& options_;
  const std::vector<std::optional<Column>>& constants_;
  CsvData* data_;
  std::vector<int> targets_;            // field index of each column of the file
  std::vector<bool> from_file_;         // per field: does the file have it?
  int64_t batch_bytes_ = 0;             // 0: one batch
  const CsvBatchAdd* add_ = nullptr;
};

void CsvFileReader::FillConstants() {
  for (size_t f = 0; f < fields_.size(); ++f) {
    if (from_file_.empty() || from_file_[f]) continue;
    Column& column = data_->columns[f];
    while (column.size() < data_->num_rows()) column.AppendFrom(*constants_[f], 0);
  }
}

absl::Status CsvFileReader::Emit(bool force) {
  if (add_ == nullptr) return absl::OkStatus();
  FillConstants();
  if (!force && ColumnBytes(data_->columns) < batch_bytes_) return absl::OkStatus();
  CsvData batch;
  batch.paths = data_->paths;
  // Column by column, so that pointers to data_'s columns stay valid.
  for (size_t f = 0; f < fields_.size(); ++f) {
    batch.columns.push_back(std::move(data_->columns[f]));
    data_->columns[f] = Column(fields_[f].type);
  }
  batch.sources = std::move(data_->sources);
  data_->sources = {};
  return (*add_)(std::move(batch));
}

// Gives pages of the private mapping [from, to) back to the kernel once
// their rows are parsed (the columns hold copies), so that a large input does
// not stay resident.
void ReleaseText(char* from, char* to) {
  const uintptr_t page = 4096;
  const uintptr_t a = (reinterpret_cast<uintptr_t>(from) + page - 1) & ~(page - 1);
  const uintptr_t b = reinterpret_cast<uintptr_t>(to) & ~(page - 1);
  if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

absl::Status CsvFileReader::MapHeader(const std::string& path,
                                      const std::vector<CsvField>& header) {
  for (size_t k = 0; k < header.size(); ++k) {
    std::string_view name = header[k].text;
    int f = FindFieldByName(fields_, name);
    if (f < 0) {
      return absl::InvalidArgumentError(StrCat(path, ": header has unknown column '", name, "'",
                                               CaseSuggestion(fields_, name)));
    }
    if (from_file_[f]) {
      return absl::InvalidArgumentError(
          StrCat(path, ": header names column '", name, "' twice (columns ",
                 std::find(targets_.begin(), targets_.end(), f) - targets_.begin() + 1, " and ",
                 k + 1, ")"));
    }
    // A column in the header is read from the file even if it has a constant:
    // the caller checks the values (e.g. against --partition).
    from_file_[f] = true;
    targets_.push_back(f);
  }
  for (size_t f = 0; f < fields_.size(); ++f) {
    if (!from_file_[f] && !constants_[f].has_value()) {
      return absl::InvalidArgumentError(
          StrCat(path, ": header has no column '", fields_[f].name, "' of the table"));
    }
  }
  return absl::OkStatus();
}

absl::Status CsvFileReader::ReadRecords(int file, RecordSplitter* splitter,
                                        const std::vector<const Field*>& fields,
                                        const std::vector<Column*>& columns,
                                        std::vector<RowSource>* sources,
                                        const std::function<void(int64_t)>& progress,
                                        const std::function<absl::Status()>& every,
                                        RowIndex expected_rows) {
  const std::string& path = data_->paths[file];
  const size_t width = columns.size();
  const std::string& null_marker = options_.null_marker;
  std::vector<CsvField> record;
  record.reserve(width + 1);
  int64_t last_report = 0;
  constexpr RowIndex kSampleRecords = 1024;
  RowIndex records = 0;
  while (splitter->Next(&record)) {
    const int64_t line = splitter->record_line();
    if (record.size() != width) {
      if (width > 1 && IsBlankLine(record)) continue;
      return absl::InvalidArgumentError(
          StrCat(path, ":", line, ": expected ", width, " fields, found ", record.size()));
    }
    for (size_t k = 0; k < width; ++k) {
      const CsvField& field = record[k];
      if (IsNull(field, null_marker)) {
        if (!fields[k]->nullable) {
          return absl::InvalidArgumentError(StrCat(path, ":", line, ": column '", fields[k]->name,
                                                   "' is NOT NULL but the field is NULL"));
        }
        columns[k]->AppendNull();
        continue;
      }
      absl::Status s = AppendParsedValue(field.text, columns[k]);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            StrCat(path, ":", line, ": column '", fields[k]->name, "': ", s.message()));
      }
    }
    sources->push_back(RowSource{file, line});
    if (expected_rows > 0 && ++records == kSampleRecords) {
      // Room for the expected rows' text, from the first records' lengths
      // (doubling a large buffer copies it and faults its pages in twice).
      for (Column* c : columns) {
        if (c->type().physical() != PhysicalType::kBytes) continue;
        const double per_row = static_cast<double>(c->bytes().size()) / kSampleRecords;
        c->Reserve(expected_rows, static_cast<uint64_t>(per_row * 1.25 * static_cast<double>(expected_rows)) + 4096);
      }
    }
    if (every && (sources->size() & 0xffff) == 0) RETL_RETURN_IF_ERROR(every());
    if (progress && splitter->offset() - last_report >= kProgressInterval) {
      last_report = splitter->offset();
      progress(last_report);
    }
  }
  return splitter->status();
}

absl::Status CsvFileReader::Read(int file, std::span<char> text, int64_t bytes_before,
                                 int64_t total_bytes, const CsvProgress& progress) {
  const std::string& path = data_->paths[file];
  RecordSplitter splitter(path, text, options_);
  std::vector<CsvField> record;
  record.reserve(fields_.size() + 1);
  targets_.clear();
  from_file_.assign(fields_.size(), false);
  if (options_.header) {
    RETL_RETURN_IF_ERROR(ReadFileHeader(path, &splitter, &record));
    RETL_RETURN_IF_ERROR(MapHeader(path, record));
  } else {
    for (size_t f = 0; f < fields_.size(); ++f) {
      if (constants_[f].has_value()) continue;
      from_file_[f] = true;
      targets_.push_back(static_cast<int>(f));
    }
  }

  // Reserve for all the input once, at the first file, from its line lengths
  // (for one batch of it when reading in batches).
  if (file == 0) {
    RowIndex rows = EstimateRows(std::string_view(text.data(), text.size()), total_bytes);
    if (batch_bytes_ > 0 && total_bytes > 0) {
      rows = std::min<RowIndex>(rows, static_cast<RowIndex>(static_cast<double>(rows) * batch_bytes_ / total_bytes) + 16);
    }
    data_->sources.reserve(rows);
    for (Column& c : data_->columns) c.Reserve(rows);
  }

  const size_t width = targets_.size();
  std::vector<const Field*> fields(width);
  for (size_t k = 0; k < width; ++k) fields[k] = &fields_[targets_[k]];
  char* rest = splitter.position();
  char* const end = text.data() + text.size();
  int64_t line = splitter.line();
  const int threads = ThreadCount(options_.threads);
  // In batches, the text is read a window at a time (each cut at a line end),
  // and each window's pages are given back once parsed.
  const int64_t window = batch_bytes_ > 0 ? std::max<int64_t>(1 << 20, batch_bytes_ / 4) : INT64_MAX;
  const int64_t min_bytes = std::min<int64_t>(kParallelBytes, window);
  std::vector<char*> cuts;
  std::vector<int64_t> first_line;
  while (rest < end) {
    char* stop = end;
    if (end - rest > window) {
      char* nl = static_cast<char*>(std::memchr(rest + window, '\n', end - (rest + window)));
      if (nl != nullptr) stop = nl + 1;
    }
    if (!CutAtLineEnds(rest, stop, line, options_, &cuts, &first_line, stop < end ? min_bytes : kParallelBytes)) break;
    const size_t pieces = cuts.size() - 1;
    struct Piece {
      std::vector<Column> columns;
      std::vector<RowSource> sources;
      absl::Status status;
    };
    std::vector<Piece> out(pieces);
    std::mutex progress_mutex;
    int64_t done = rest - text.data();
    ParallelFor(pieces, threads, [&](size_t k) {
      RecordSplitter piece_splitter(path, cuts[k], cuts[k + 1], first_line[k], options_);
      std::vector<Column*> columns(width);
      // Sized for the piece's lines up front: growing many large buffers on
      // several threads at once costs more in page faults than the parsing.
      const RowIndex lines = first_line[k + 1] - first_line[k];
      for (size_t c = 0; c < width; ++c) {
        out[k].columns.emplace_back(fields[c]->type);
        out[k].columns.back().Reserve(lines);
      }
      out[k].sources.reserve(lines);
      for (size_t c = 0; c < width; ++c) columns[c] = &out[k].columns[c];
      out[k].status = ReadRecords(file, &piece_splitter, fields, columns, &out[k].sources, {}, {}, lines);
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        done += cuts[k + 1] - cuts[k];
        progress(bytes_before + done, total_bytes, data_->num_rows());
      }
    });
    for (Piece& piece : out) RETL_RETURN_IF_ERROR(piece.status);  // the first error in the file
    // Column by column, each on its own thread; the sources as one more task.
    // Each column is first sized for all its pieces.
    ParallelFor(width + 1, threads, [&](size_t c) {
      if (c < width) {
        Column& column = data_->columns[targets_[c]];
        RowIndex rows = column.size();
        uint64_t bytes = column.bytes().size();
        for (const Piece& piece : out) {
          rows += piece.columns[c].size();
          bytes += piece.columns[c].bytes().size();
        }
        column.Grow(rows, bytes);
      }
      for (Piece& piece : out) {
        if (c == width) {
          data_->sources.insert(data_->sources.end(), piece.sources.begin(), piece.sources.end());
          piece.sources = {};
        } else {
          data_->columns[targets_[c]].AppendColumn(piece.columns[c]);
          piece.columns[c] = Column(fields[c]->type);
        }
      }
    });
    line = first_line.back();
    if (batch_bytes_ > 0) ReleaseText(rest, stop);
    rest = stop;
    RETL_RETURN_IF_ERROR(Emit(false));
  }
  if (rest < end) {
    // One record after another (small inputs, quote characters, one thread).
    RecordSplitter tail(path, rest, end, line, options_);
    std::vector<Column*> columns(width);
    for (size_t k = 0; k < width; ++k) columns[k] = &data_->columns[targets_[k]];
    std::function<void(int64_t)> report;
    const int64_t offset = rest - text.data();
    if (progress) {
      report = [&](int64_t at) { progress(bytes_before + offset + at, total_bytes, data_->num_rows()); };
    }
    std::function<absl::Status()> every;
    if (batch_bytes_ > 0) {
      every = [&]() {
        ReleaseText(rest, tail.position());
        return Emit(false);
      };
    }
    RETL_RETURN_IF_ERROR(ReadRecords(file, &tail, fields, columns, &data_->sources, report, every));
  }
  FillConstants();
  return absl::OkStatus();
}

// What InferCsvSchema has learned of one column: the types that parsed every
// non-NULL value so far.
struct ColumnGuess {
  enum : uint8_t {
    kBoolean = 1 << 0,
    kBigInt = 1 << 1,
    kDouble = 1 << 2,
    kDate = 1 << 3,
    kTimestamp = 1 << 4,
  };
  uint8_t candidates = kBoolean | kBigInt | kDouble | kDate | kTimestamp;
  bool has_value = false;

  void Observe(std::string_view v) {
    has_value = true;
    if (candidates == 0) return;  // STRING already
    if ((candidates & kBoolean) && !absl::EqualsIgnoreCase(ToAbsl(v), "true") &&
        !absl::EqualsIgnoreCase(ToAbsl(v), "false")) {
      candidates &= ~kBoolean;
    }
    if ((candidates & kBigInt) && !ParseInteger(v, TypeId::kBigInt).ok()) candidates &= ~kBigInt;
    if ((candidates & kDouble) && !ParseDouble(v).ok()) candidates &= ~kDouble;
    if ((candidates & kDate) && !ParseDate(v).ok()) candidates &= ~kDate;
    if ((candidates & kTimestamp) && !ParseTimestamp(v).ok()) candidates &= ~kTimestamp;
  }

  // Adds what `other` learned from other records.
  void Merge(const ColumnGuess& other) {
    candidates &= other.candidates;
    has_value |= other.has_value;
  }

  DataType Type() const {
    if (!has_value) return DataType::Of(TypeId::kString);
    if (candidates & kBoolean) return DataType::Of(TypeId::kBoolean);
    if (candidates & kBigInt) return DataType::Of(TypeId::kBigInt);
    if (candidates & kDouble) return DataType::Of(TypeId::kDouble);
    if (candidates & kDate) return DataType::Of(TypeId::kDate);
    if (candidates & kTimestamp) return DataType::Of(TypeId::kTimestamp);
    return DataType::Of(TypeId::kString);
  }
};

}  // namespace

absl::StatusOr<InputCompression> ParseInputCompression(std::string_view name) {
  absl::string_view n = ToAbsl(name);
  if (absl::EqualsIgnoreCase(n, "auto")) return InputCompression::kAuto;
  if (absl::EqualsIgnoreCase(n, "none")) return InputCompression::kNone;
  if (absl::EqualsIgnoreCase(n, "gzip") || absl::EqualsIgnoreCase(n, "gz")) {
    return InputCompression::kGzip;
  }
  if (absl::EqualsIgnoreCase(n, "zstd") || absl::EqualsIgnoreCase(n, "zst")) {
    return InputCompression::kZstd;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown compression '", name, "': expected auto, none, gzip or zstd"));
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path, InputCompression compression) {
  RETL_ASSIGN_OR_RETURN(FileSource in, FileSource::Open(path));
  if (compression == InputCompression::kAuto) compression = Detect(in.Head());
  if (compression != InputCompression::kGzip && compression != InputCompression::kZstd) {
    return in.regular() ? ReadFileFrom(in.fd(), path) : in.Take();
  }
  return DecompressToMemory(path, compression, &in);
}

std::string CsvData::Describe(RowIndex row) const {
  const RowSource& source = sources[row];
  return StrCat(paths[source.file], ":", source.line);
}

namespace {

// ReadCsvFiles into `data`; in batches given to `add` if it is set.
absl::Status ReadCsv(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                     const CsvOptions& options, const std::map<std::string, std::string>& constants,
                     const CsvProgress& progress, int64_t batch_bytes, const CsvBatchAdd* add, CsvData* data) {
  RETL_RETURN_IF_ERROR(ValidateOptions(options));
  RETL_ASSIGN_OR_RETURN(std::vector<std::optional<Column>> constant_columns, ConstantColumns(fields, constants));

  // Sizes of the decompressed inputs: estimates until each is read. Opening
  // every file first also reports a missing one before any work is done.
  std::vector<int64_t> sizes(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    RETL_ASSIGN_OR_RETURN(sizes[i], EstimateInputSize(paths[i], options.compression));
  }

  data->paths = paths;
  data->columns.reserve(fields.size());
  for (const Field& f : fields) data->columns.emplace_back(f.type);
  CsvFileReader reader(fields, options, constant_columns, data);
  if (add != nullptr) reader.SetBatches(batch_bytes, add);
  int64_t bytes_before = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    RETL_ASSIGN_OR_RETURN(InputText text, InputText::Read(paths[i], options.compression, /*populate=*/add == nullptr,
                                                          add != nullptr ? options.temp_dir : std::string()));
    sizes[i] = static_cast<int64_t>(text.size());
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    if (progress) progress(bytes_before, total, data->num_rows());
    RETL_RETURN_IF_ERROR(reader.Read(static_cast<int>(i), text.span(), bytes_before, total, progress));
    bytes_before += sizes[i];
  }
  if (progress) progress(bytes_before, bytes_before, data->num_rows());
  return reader.Emit(/*force=*/true);
}

}  // namespace

absl::StatusOr<CsvData> ReadCsvFiles(const std::vector<std::string>& paths,
                                     const std::vector<Field>& fields, const CsvOptions& options,
                                     const std::map<std::string, std::string>& constants,
                                     const CsvProgress& progress) {
  CsvData data;
  RETL_RETURN_IF_ERROR(ReadCsv(paths, fields, options, constants, progress, 0, nullptr, &data));
  return data;
}

absl::Status ReadCsvBatches(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                            const CsvOptions& options, const std::map<std::string, std::string>& constants,
                            const CsvProgress& progress, int64_t batch_bytes, const CsvBatchAdd& add) {
  CsvData data;
  return ReadCsv(paths, fields, options, constants, progress, std::max<int64_t>(1, batch_bytes), &add, &data);
}

namespace {

// InferCsvSchema and InferCsvSchemaFromSample: all records when sample_bytes
// is 0, else those starting in the first sample_bytes of each file.
absl::StatusOr<std::vector<Field>> InferCsv(const std::vector<std::string>& paths, const CsvOptions& options,
                                            const std::map<std::string, DataType>& overrides,
                                            int64_t sample_bytes, std::vector<bool>* settled) {
  RETL_RETURN_IF_ERROR(ValidateOptions(options));
  bool complete = true;  // every record was looked at
  if (paths.empty()) return absl::InvalidArgumentError("no input files to infer a schema from");
  std::vector<std::string> names;
  std::vector<ColumnGuess> guesses;
  bool have_names = false;
  std::vector<CsvField> record;
  for (const std::string& path : paths) {
    // Pages come in as used and go back once looked at: a file larger than
    // memory is inferred from without staying resident.
    // A compressed file is decompressed only as far as the sample goes, or
    // in full to options.temp_dir (if set).
    RETL_ASSIGN_OR_RETURN(InputText text,
                          InputText::Read(path, options.compression, /*populate=*/false,
                                          sample_bytes == 0 ? options.temp_dir : std::string(),
                                          sample_bytes > 0 ? static_cast<uint64_t>(sample_bytes) + kSampleSlack : 0));
    RecordSplitter splitter(path, text.span(), options);
    if (options.header) {
      RETL_RETURN_IF_ERROR(ReadFileHeader(path, &splitter, &record));
      if (!have_names) {
        for (size_t k = 0; k < record.size(); ++k) {
          std::string_view name = record[k].text;
          if (name.empty()) {
            return absl::InvalidArgumentError(
                StrCat(path, ": header column ", k + 1, " has no name"));
          }
          if (std::find(names.begin(), names.end(), name) != names.end()) {
            return absl::InvalidArgumentError(
                StrCat(path, ": header names column '", name, "' twice"));
          }
          names.emplace_back(name);
        }
        guesses.resize(names.size());
        have_names = true;
      } else {
        if (record.size() != names.size()) {
          return absl::InvalidArgumentError(
              StrCat(path, ": header has ", record.size(), " columns, but the header of '",
                     paths[0], "' has ", names.size(), "; every file must have the same header"));
        }
        for (size_t k = 0; k < names.size(); ++k) {
          if (record[k].text != names[k]) {
            return absl::InvalidArgumentError(StrCat(
                path, ": header column ", k + 1, " is '", record[k].text, "', but in '", paths[0],
                "' it is '", names[k], "'; every file must have the same header"));
          }
        }
      }
    }
    // Observes the records `sp` gives in `into`.
    auto observe = [&](RecordSplitter* sp, std::vector<ColumnGuess>* into) -> absl::Status {
      std::vector<CsvField> fields;
      char* released = sp->position();
      for (int64_t records = 1; sp->Next(&fields); ++records) {
        if ((records & 0xffff) == 0) {
          ReleaseText(released, sp->position());
          released = sp->position();
        }
        if (sample_bytes > 0 && sp->offset() > sample_bytes) {
          complete = false;
          break;
        }
        if (fields.size() != names.size()) {
          if (names.size() > 1 && IsBlankLine(fields)) continue;
          return absl::InvalidArgumentError(StrCat(path, ":", sp->record_line(), ": expected ",
                                                   names.size(), " fields, found ", fields.size()));
        }
        for (size_t k = 0; k < fields.size(); ++k) {
          if (!IsNull(fields[k], options.null_marker)) (*into)[k].Observe(fields[k].text);
        }
      }
      if (text.truncated()) {
        // Decompressed only this far: the input goes on (a quoted field may
        // be cut at the end, which is not an error of the file).
        complete = false;
        return absl::OkStatus();
      }
      return sp->status();
    };
    if (!have_names) {  // no header: the first record decides the width
      if (!splitter.Next(&record)) {
        RETL_RETURN_IF_ERROR(splitter.status());
        continue;
      }
      for (size_t k = 0; k < record.size(); ++k) names.push_back(StrCat("column", k + 1));
      guesses.resize(names.size());
      have_names = true;
      for (size_t k = 0; k < record.size(); ++k) {
        if (!IsNull(record[k], options.null_marker)) guesses[k].Observe(record[k].text);
      }
    }
    std::vector<char*> cuts;
    std::vector<int64_t> first_line;
    char* const end = text.span().data() + text.size();
    // Windows of the file cut at line ends, each observed on all cores.
    char* rest = splitter.position();
    int64_t line = splitter.line();
    constexpr int64_t kWindow = kParallelBytes;
    while (sample_bytes == 0 && rest < end) {
      char* stop = end;
      if (end - rest > kWindow) {
        char* nl = static_cast<char*>(std::memchr(rest + kWindow, '\n', end - (rest + kWindow)));
        if (nl != nullptr) stop = nl + 1;
      }
      if (!CutAtLineEnds(rest, stop, line, options, &cuts, &first_line)) break;
      const size_t pieces = cuts.size() - 1;
      std::vector<std::vector<ColumnGuess>> piece_guesses(pieces, std::vector<ColumnGuess>(names.size()));
      std::vector<absl::Status> status(pieces);
      ParallelFor(pieces, options.threads, [&](size_t k) {
        RecordSplitter sp(path, cuts[k], cuts[k + 1], first_line[k], options);
        status[k] = observe(&sp, &piece_guesses[k]);
      });
      for (const absl::Status& st : status) RETL_RETURN_IF_ERROR(st);  // the first error in the file
      for (const std::vector<ColumnGuess>& g : piece_guesses) {
        for (size_t k = 0; k < names.size(); ++k) guesses[k].Merge(g[k]);
      }
      ReleaseText(rest, stop);
      line = first_line.back();
      rest = stop;
    }
    if (sample_bytes > 0) {
      RETL_RETURN_IF_ERROR(observe(&splitter, &guesses));  // offsets from the file's start
    } else if (rest < end) {
      RecordSplitter tail(path, rest, end, line, options);
      RETL_RETURN_IF_ERROR(observe(&tail, &guesses));
    }
  }
  if (!have_names) {
    return absl::InvalidArgumentError("cannot infer a schema: the input has no records");
  }

  std::vector<Field> fields(names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    fields[k] = Field{names[k], guesses[k].Type(), /*nullable=*/true};
  }
  RETL_RETURN_IF_ERROR(ApplyTypeOverrides(overrides, &fields));
  if (settled != nullptr) {
    settled->assign(fields.size(), true);
    for (size_t k = 0; k < fields.size(); ++k) {
      // Reading accepts more spellings of a boolean (t, yes, 1, ...) than
      // inference does, and a column without a value in the sample says
      // nothing of its type.
      const bool overridden = overrides.count(fields[k].name) > 0;
      if (!complete && !overridden &&
          (!guesses[k].has_value || fields[k].type.id == TypeId::kBoolean)) {
        (*settled)[k] = false;
      }
    }
  }
  return fields;
}

}  // namespace

absl::StatusOr<std::vector<Field>> InferCsvSchema(const std::vector<std::string>& paths,
                                                  const CsvOptions& options,
                                                  const std::map<std::string, DataType>& overrides) {
  return InferCsv(paths, options, overrides, 0, nullptr);
}

absl::StatusOr<std::vector<Field>> InferCsvSchemaFromSample(const std::vector<std::string>& paths,
                                                            const CsvOptions& options,
                                                            const std::map<std::string, DataType>& overrides,
                                                            int64_t sample_bytes, std::vector<bool>* settled) {
  return InferCsv(paths, options, overrides, std::max<int64_t>(1, sample_bytes), settled);
}

absl::Status SettleCsvColumns(const std::vector<bool>& settled, std::vector<Field>* fields,
                              std::vector<Column>* columns, int threads) {
  for (size_t k = 0; k < fields->size(); ++k) {
    if (settled[k]) continue;
    Column& c = (*columns)[k];
    // Ranges of rows on all cores: guessed, then converted, each on its own.
    const RowRanges range(c.size());
    std::vector<ColumnGuess> guesses(range.size());
    ParallelFor(range.size(), threads, [&](size_t part) {
      const auto [begin, end] = range[part];
      for (RowIndex r = begin; r < end; ++r) {
        if (c.IsValid(r)) guesses[part].Observe(c.GetBytes(r));
      }
    });
    ColumnGuess guess;
    for (const ColumnGuess& g : guesses) guess.Merge(g);
    const DataType type = guess.Type();
    (*fields)[k].type = type;
    if (type == c.type()) continue;
    std::vector<Column> typed(range.size(), Column(type));
    std::vector<absl::Status> status(range.size());
    ParallelFor(range.size(), threads, [&](size_t part) {
      const auto [begin, end] = range[part];
      typed[part].Reserve(end - begin);
      for (RowIndex r = begin; r < end && status[part].ok(); ++r) {
        if (!c.IsValid(r)) {
          typed[part].AppendNull();
        } else {
          status[part] = AppendParsedValue(c.GetBytes(r), &typed[part]);  // it parsed as `type` above
        }
      }
    });
    for (const absl::Status& st : status) RETL_RETURN_IF_ERROR(st);
    Column all(type);
    all.Reserve(c.size());
    for (const Column& part : typed) all.AppendColumn(part);
    c = std::move(all);
  }
  return absl::OkStatus();
}

}  // namespace retl
