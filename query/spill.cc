#include "query/spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "format/file_util.h"
#include "format/strings.h"

namespace retl {

using absl::StrCat;

absl::StatusOr<int64_t> ParseByteSize(std::string_view text) {
  std::string_view t = ToStd(absl::StripAsciiWhitespace(ToAbsl(text)));
  size_t i = 0;
  while (i < t.size() && (absl::ascii_isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  const std::string number(t.substr(0, i));
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(t.substr(i))));
  double value = 0;
  if (number.empty() || !absl::SimpleAtod(number, &value)) {
    return absl::InvalidArgumentError(StrCat("invalid size \"", std::string(text),
                                             "\": expected a number of bytes with an optional unit, as in "
                                             "'512MB' or '2GB'"));
  }
  double scale = 0;
  if (unit.empty() || unit == "b" || unit == "byte" || unit == "bytes") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;
  if (scale == 0) {
    return absl::InvalidArgumentError(StrCat("invalid size \"", std::string(text), "\": unknown unit \"", unit,
                                             "\" (use B, KB, MB, GB or TB)"));
  }
  const double bytes = value * scale;
  if (!(bytes < 9.0e18)) return absl::InvalidArgumentError(StrCat("invalid size \"", std::string(text), "\": too large"));
  return static_cast<int64_t>(std::llround(bytes));
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return StrCat(bytes, bytes == 1 ? " byte" : " bytes");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return absl::StrFormat("%.1f %s", v, units[u]);
}

int64_t DefaultMemoryLimit() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{8} << 30;
  return static_cast<int64_t>(static_cast<double>(pages) * static_cast<double>(page_size) * 0.8);
}

std::string DefaultTempDirectory() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? std::string(t) : std::string("/tmp");
}

void QueryMemory::Add(int64_t delta) {
  const int64_t now = used_.fetch_add(delta, std::memory_order_relaxed) + delta;
  int64_t p = peak_.load(std::memory_order_relaxed);
  while (now > p && !peak_.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
  }
}

bool MemoryReservation::Set(int64_t bytes) {
  peak_ = std::max(peak_, bytes);
  if (memory_ == nullptr) {
    held_ = bytes;
    return true;
  }
  memory_->Add(bytes - held_);
  held_ = bytes;
  return memory_->used() <= memory_->limit();
}

absl::StatusOr<std::unique_ptr<SpillFile>> SpillFile::Create(QueryMemory* memory, std::vector<SqlType> types) {
  const std::string& dir = memory->temp_directory();
  // Unlinked from the start: nothing to remove, whatever happens later.
  const int fd = OpenUnnamedFile(dir);
  if (fd < 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        StrCat("the query needs more memory than memory_limit (", FormatBytes(memory->limit()),
               ") and cannot spill to temporary files in \"", dir, "\": ", std::strerror(err),
               " (SET temp_directory to a writable directory with free space, or raise memory_limit)"));
  }
  memory->spill_files_.fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<SpillFile>(new SpillFile(memory, fd, std::move(types)));
}

SpillFile::~SpillFile() { close(fd_); }

absl::Status SpillFile::IoError(const char* what, int err) const {
  return absl::ResourceExhaustedError(
      StrCat("spilling to temporary files in \"", memory_->temp_directory(), "\": ", what, " failed: ",
             std::strerror(err),
             err == ENOSPC ? " (free disk space there, SET temp_directory to a larger disk, or raise memory_limit)"
                           : ""));
}

namespace {

template <typename T>
void PutRaw(std::string* out, const T& x) {
  out->append(reinterpret_cast<const char*>(&x), sizeof(T));
}

template <typename T>
void PutArray(std::string* out, const std::vector<T>& v, size_t n) {
  out->append(reinterpret_cast<const char*>(v.data()), n * sizeof(T));
}

}  // namespace

absl::Status SpillFile::Write(const Batch& batch) {
  const size_t n = batch.size;
  if (n == 0) return absl::OkStatus();
  // [u64 payload bytes][payload: u32 rows, then per column the validity
  // bytes and the values; strings as u32 lengths then their bytes]
  const size_t start = buffer_.size();
  PutRaw<uint64_t>(&buffer_, 0);
  PutRaw<uint32_t>(&buffer_, static_cast<uint32_t>(n));
  for (size_t c = 0; c < types_.size(); ++c) {
    const Vector& v = batch.columns[c];
    if (v.constant) {
      for (size_t i = 0; i < n; ++i) buffer_.push_back(static_cast<char>(v.valid[0]));
    } else {
      buffer_.append(reinterpret_cast<const char*>(v.valid.data()), n);
    }
    const size_t r0 = 0;
    auto row = [&](size_t i) { return v.constant ? r0 : i; };
    switch (types_[c].storage()) {
      case Storage::kInt64:
        if (v.constant) for (size_t i = 0; i < n; ++i) PutRaw(&buffer_, v.i64[0]);
        else PutArray(&buffer_, v.i64, n);
        break;
      case Storage::kInt128:
        if (v.constant) for (size_t i = 0; i < n; ++i) PutRaw(&buffer_, v.i128[0]);
        else PutArray(&buffer_, v.i128, n);
        break;
      case Storage::kDouble:
        if (v.constant) for (size_t i = 0; i < n; ++i) PutRaw(&buffer_, v.f64[0]);
        else PutArray(&buffer_, v.f64, n);
        break;
      case Storage::kInterval:
        for (size_t i = 0; i < n; ++i) PutRaw(&buffer_, v.iv[row(i)]);
        break;
      case Storage::kString:
        for (size_t i = 0; i < n; ++i) PutRaw<uint32_t>(&buffer_, static_cast<uint32_t>(v.str[row(i)].size()));
        for (size_t i = 0; i < n; ++i) buffer_.append(v.str[row(i)]);
        break;
    }
  }
  const uint64_t payload = buffer_.size() - start - sizeof(uint64_t);
  std::memcpy(buffer_.data() + start, &payload, sizeof(payload));
  rows_ += static_cast<int64_t>(n);
  if (buffer_.size() >= (size_t{1} << 20)) return Flush();
  return absl::OkStatus();
}

absl::Status SpillFile::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t w = pwrite(fd_, buffer_.data() + done, buffer_.size() - done, size_ + static_cast<int64_t>(done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", errno);
    }
    if (w == 0) return IoError("write", ENOSPC);
    done += static_cast<size_t>(w);
  }
  size_ += static_cast<int64_t>(done);
  memory_->spilled_bytes_.fetch_add(static_cast<int64_t>(done), std::memory_order_relaxed);
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status SpillFile::FinishWriting() {
  RETL_RETURN_IF_ERROR(Flush());
  buffer_.shrink_to_fit();
  read_offset_ = 0;
  return absl::OkStatus();
}

absl::Status SpillFile::ReadExactly(void* to, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = pread(fd_, static_cast<char*>(to) + done, n - done, read_offset_ + static_cast<int64_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read", errno);
    }
    if (r == 0) return IoError("read", EIO);  // shorter than written
    done += static_cast<size_t>(r);
  }
  read_offset_ += static_cast<int64_t>(n);
  return absl::OkStatus();
}

absl::StatusOr<bool> SpillFile::Read(Batch* out) {
  if (read_offset_ >= size_) return false;
  uint64_t payload = 0;
  RETL_RETURN_IF_ERROR(ReadExactly(&payload, sizeof(payload)));
  auto bytes = std::make_shared<std::string>();
  bytes->resize(payload);
  RETL_RETURN_IF_ERROR(ReadExactly(bytes->data(), payload));
  const char* p = bytes->data();
  auto take = [&p](void* to, size_t len) {
    std::memcpy(to, p, len);
    p += len;
  };
  uint32_t n = 0;
  take(&n, sizeof(n));
  out->size = n;
  out->columns.resize(types_.size());
  std::vector<uint32_t> lengths;
  for (size_t c = 0; c < types_.size(); ++c) {
    Vector& v = out->columns[c];
    v.Resize(types_[c], n);
    take(v.valid.data(), n);
    switch (types_[c].storage()) {
      case Storage::kInt64: take(v.i64.data(), n * sizeof(int64_t)); break;
      case Storage::kInt128: take(v.i128.data(), n * sizeof(int128)); break;
      case Storage::kDouble: take(v.f64.data(), n * sizeof(double)); break;
      case Storage::kInterval: take(v.iv.data(), n * sizeof(Interval)); break;
      case Storage::kString: {
        lengths.resize(n);
        take(lengths.data(), n * sizeof(uint32_t));
        for (size_t i = 0; i < n; ++i) {
          v.str[i] = std::string_view(p, lengths[i]);
          p += lengths[i];
        }
        v.keep.push_back(bytes);
        break;
      }
    }
  }
  return true;
}

absl::Status SpillMerge::Start(std::vector<SpillFile*> files, std::vector<SqlType> types, Before before) {
  files_ = std::move(files);
  types_ = std::move(types);
  before_ = std::move(before);
  cursors_.assign(files_.size(), Cursor());
  heap_.clear();
  for (size_t i = 0; i < files_.size(); ++i) {
    RETL_ASSIGN_OR_RETURN(bool more, files_[i]->Read(&cursors_[i].batch));
    if (more) heap_.push_back(i);
  }
  std::make_heap(heap_.begin(), heap_.end(), [this](size_t x, size_t y) { return After(x, y); });
  return absl::OkStatus();
}

absl::StatusOr<bool> SpillMerge::Next(Batch* out, size_t max_rows) {
  auto after = [this](size_t x, size_t y) { return After(x, y); };
  const size_t width = types_.size();
  out->columns.resize(width);
  for (size_t c = 0; c < width; ++c) out->columns[c].Reset(types_[c], 0);
  out->size = 0;
  std::vector<uint8_t> kept(cursors_.size(), 0);  // whether out keeps the cursor's batch's bytes
  while (out->size < max_rows && !heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), after);
    const size_t i = heap_.back();
    heap_.pop_back();
    Cursor& cur = cursors_[i];
    if (!kept[i]) {
      for (size_t c = 0; c < width; ++c) out->columns[c].KeepFrom(cur.batch.columns[c]);
      kept[i] = 1;
    }
    for (size_t c = 0; c < width; ++c) out->columns[c].Append(cur.batch.columns[c], cur.row);
    ++out->size;
    if (++cur.row == cur.batch.size) {
      cur.row = 0;
      kept[i] = 0;
      RETL_ASSIGN_OR_RETURN(bool more, files_[i]->Read(&cur.batch));
      if (!more) continue;
    }
    heap_.push_back(i);
    std::push_heap(heap_.begin(), heap_.end(), after);
  }
  return out->size > 0;
}

}  // namespace retl
