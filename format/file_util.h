// Filesystem primitives with the durability the commit protocol needs
// (FORMAT.md §8): whole-file writes that are fsync'ed before they return,
// directory fsync after renames, advisory writer locks, and read-only memory
// maps. Errors carry the path and the OS's reason.
//
// Thread-safety: functions are reentrant; a MappedFile may be read from any
// number of threads.
#ifndef RETL_FORMAT_FILE_UTIL_H_
#define RETL_FORMAT_FILE_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"

namespace retl {

// kNotFound for ENOENT, kInternal otherwise, with "OP 'PATH': strerror".
absl::Status ErrnoStatus(std::string_view op, const std::string& path, int err);

// A file open for appending, written sequentially. Sync() makes the bytes
// durable. Destroying an unsynced file closes it without syncing.
class WritableFile {
 public:
  static absl::StatusOr<std::unique_ptr<WritableFile>> Create(const std::string& path);
  ~WritableFile();
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  absl::Status Append(std::string_view data);
  // Appends zero bytes until the size is a multiple of `alignment`.
  absl::Status PadTo(uint64_t alignment);
  uint64_t size() const { return size_; }
  absl::Status Sync();
  absl::Status Close();
  const std::string& path() const { return path_; }

 private:
  WritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status Flush();

  std::string path_;
  int fd_;
  uint64_t size_ = 0;
  std::string buffer_;
};

// A new file in `dir` with no name (O_TMPFILE, or a file unlinked at once),
// open for reading and writing: it disappears when closed, however the
// process ends. Returns the descriptor, or -1 with errno set.
int OpenUnnamedFile(const std::string& dir);
// The name such a file has in the moment before it is unlinked.
inline constexpr std::string_view kSpillFilePrefix = "retl-spill-";

// Writes `data` to `path` (replacing it), fsyncs it and closes it.
absl::Status WriteFileDurably(const std::string& path, std::string_view data);
// Reads a whole file (regular file, pipe or device; a directory is an error).
absl::StatusOr<std::string> ReadFile(const std::string& path);
// The same from `fd`, open on `path` (named in errors), from where it is to
// its end; `fd` stays open.
absl::StatusOr<std::string> ReadFileFrom(int fd, const std::string& path);
// fsync of a directory, so that renames and creations in it are durable.
absl::Status SyncDirectory(const std::string& dir);
// rename(2), then fsync of the target's directory.
absl::Status RenameDurably(const std::string& from, const std::string& to);
// Names of the entries of `dir` (no "." or "..").
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir);
absl::Status CreateDirectory(const std::string& dir);  // OK if it exists
absl::Status RemoveFile(const std::string& path);      // OK if it is gone
bool PathExists(const std::string& path);
absl::StatusOr<uint64_t> FileSize(const std::string& path);

// An exclusive advisory lock (flock) on a file, released on destruction or
// when the process dies: a crashed writer never leaves the dataset locked.
class FileLock {
 public:
  // Without `wait`, fails at once with kFailedPrecondition if another process
  // holds the lock, naming the holder's pid when known.
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const std::string& path, bool wait);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// A whole file mapped read-only. The mapping stays valid after the file is
// renamed or unlinked, which is what keeps snapshots stable (FORMAT.md §9).
class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(data_), size_);
  }
  const std::string& path() const { return path_; }

 private:
  struct Region;
  MappedFile(std::string path, std::unique_ptr<Region> region);

  std::string path_;
  std::unique_ptr<Region> region_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// xxHash64 with seed 0, the checksum of FORMAT.md §2.3.
uint64_t Checksum64(const void* data, size_t size);
inline uint64_t Checksum64(std::string_view data) { return Checksum64(data.data(), data.size()); }

// Streaming xxHash64 with seed 0.
class Checksum64Stream {
 public:
  Checksum64Stream();
  ~Checksum64Stream();
  Checksum64Stream(const Checksum64Stream&) = delete;
  Checksum64Stream& operator=(const Checksum64Stream&) = delete;
  void Update(const void* data, size_t size);
  uint64_t Digest() const;

 private:
  void* state_;
};

}  // namespace retl

#endif  // RETL_FORMAT_FILE_UTIL_H_
