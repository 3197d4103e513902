#include "format/file_util.h"
#include "format/strings.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "xxhash.h"

namespace retl {

namespace {
constexpr size_t kWriteBufferSize = 1 << 20;

std::string ParentDirectory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

absl::Status ErrnoStatus(std::string_view op, const std::string& path, int err) {
  std::string msg = StrCat(op, " '", path, "': ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EEXIST) return absl::AlreadyExistsError(msg);
  return absl::InternalError(msg);
}

absl::StatusOr<std::unique_ptr<WritableFile>> WritableFile::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path, errno);
  return std::unique_ptr<WritableFile>(new WritableFile(path, fd));
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status WritableFile::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status WritableFile::Append(std::string_view data) {
  size_ += data.size();
  if (buffer_.size() + data.size() > kWriteBufferSize) {
    RETL_RETURN_IF_ERROR(Flush());
    if (data.size() > kWriteBufferSize) {
      buffer_.assign(data.data(), data.size());
      return Flush();
    }
  }
  buffer_.append(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status WritableFile::PadTo(uint64_t alignment) {
  uint64_t rem = size_ % alignment;
  if (rem == 0) return absl::OkStatus();
  return Append(std::string(alignment - rem, '\0'));
}

absl::Status WritableFile::Sync() {
  RETL_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) return ErrnoStatus("cannot fsync", path_, errno);
  return absl::OkStatus();
}

absl::Status WritableFile::Close() {
  RETL_RETURN_IF_ERROR(Flush());
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoStatus("cannot close", path_, errno);
  return absl::OkStatus();
}

absl::Status WriteFileDurably(const std::string& path, std::string_view data) {
  RETL_ASSIGN_OR_RETURN(auto file, WritableFile::Create(path));
  RETL_RETURN_IF_ERROR(file->Append(data));
  RETL_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  return ReadFileFrom(fd, path);
}

absl::StatusOr<std::string> ReadFileFrom(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) return ErrnoStatus("cannot read", path, EISDIR);
  // One more byte than the size, so a regular file is read without growing
  // and the final read(2) sees the end; pipes grow as needed.
  constexpr size_t kMaxRead = size_t{1} << 30;
  std::string data(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : 1 << 16, '\0');
  size_t used = 0;
  while (true) {
    if (used == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(fd, data.data() + used, std::min(data.size() - used, kMaxRead));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path, errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  data.resize(used);
  return data;
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync directory", dir, err);
  return absl::OkStatus();
}

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(StrCat("cannot rename '", from, "' to"), to, errno);
  }
  return SyncDirectory(ParentDirectory(to));
}

absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("cannot list directory", dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

absl::Status CreateDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory", dir, errno);
  }
  return absl::OkStatus();
}

absl::Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", path, errno);
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::StatusOr<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open lock file", path, errno);
  while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    if (err == EWOULDBLOCK) {
      char buf[32] = {0};
      ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
      ::close(fd);
      std::string holder;
      int64_t pid = 0;
      if (n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &pid)) {
        holder = StrCat(" (held by pid ", pid, ")");
      }
      return absl::FailedPreconditionError(
          StrCat("another writer is working on this dataset", holder, ": lock '", path,
                       "' is taken; retry when it finishes, or pass --wait to wait for it"));
    }
    ::close(fd);
    return ErrnoStatus("cannot lock", path, err);
  }
  // Record our pid for the error message of the next writer (best effort).
  std::string pid = StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() {
  [[maybe_unused]] int rc = ::ftruncate(fd_, 0);
  ::close(fd_);  // releases the flock
}

struct MappedFile::Region {
  boost::interprocess::mapped_region region;
};

MappedFile::MappedFile(std::string path, std::unique_ptr<Region> region)
    : path_(std::move(path)), region_(std::move(region)) {
  if (region_ != nullptr) {
    data_ = static_cast<const uint8_t*>(region_->region.get_address());
    size_ = region_->region.get_size();
  }
}

MappedFile::~MappedFile() = default;

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(const std::string& path) {
  RETL_ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
  if (size == 0) {
    // mmap of an empty file fails; an empty file has no bytes to read anyway.
    return std::shared_ptr<const MappedFile>(new MappedFile(path, nullptr));
  }
  try {
    boost::interprocess::file_mapping mapping(path.c_str(), boost::interprocess::read_only);
    auto region = std::make_unique<Region>();
    region->region = boost::interprocess::mapped_region(mapping, boost::interprocess::read_only);
    // The file_mapping (and its descriptor) closes here; the mapping stays.
    return std::shared_ptr<const MappedFile>(new MappedFile(path, std::move(region)));
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("cannot map '", path, "': ", e.what()));
  }
}

uint64_t Checksum64(const void* data, size_t size) { return XXH64(data, size, 0); }

Checksum64Stream::Checksum64Stream() : state_(XXH64_createState()) {
  XXH64_reset(static_cast<XXH64_state_t*>(state_), 0);
}
Checksum64Stream::~Checksum64Stream() { XXH64_freeState(static_cast<XXH64_state_t*>(state_)); }
void Checksum64Stream::Update(const void* data, size_t size) {
  XXH64_update(static_cast<XXH64_state_t*>(state_), data, size);
}
uint64_t Checksum64Stream::Digest() const {
  return XXH64_digest(static_cast<const XXH64_state_t*>(state_));
}

int OpenUnnamedFile(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string path = dir + "/" + std::string(kSpillFilePrefix) + "XXXXXX";  // mkostemp fills in the X's
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  return fd;
}

}  // namespace retl
