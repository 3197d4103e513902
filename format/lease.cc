#include "format/lease.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "format/file_util.h"
#include "format/manifest.h"
#include "format/strings.h"

namespace retl {

namespace {

// Touches every registered lease every third of the time to live. One
// thread per process, started with the first lease; never destroyed (a
// lease may outlive static destructors), so it is detached.
class Renewer {
 public:
  static Renewer& Get() {
    static Renewer* renewer = new Renewer();
    return *renewer;
  }
  void Add(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    paths_.insert(path);
    if (!started_) {
      started_ = true;
      std::thread([this] { Run(); }).detach();
    }
  }
  void Remove(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    paths_.erase(path);
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::seconds(kLeaseTtlSeconds / 3));
      for (const std::string& path : paths_) ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> paths_;
  bool started_ = false;
};

std::string Nonce() {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }();
  static std::atomic<uint64_t> counter{0};
  return StrCat(absl::Hex(seed & 0xffffffff), "x", counter++);
}

}  // namespace

std::unique_ptr<Lease> Lease::Acquire(const std::string& dir, int64_t version) {
  const std::string leases = JoinPath(dir, kLeaseDir);
  if (::mkdir(leases.c_str(), 0777) != 0 && errno != EEXIST) return nullptr;
  const std::string path = JoinPath(leases, StrCat(version, "-", ::getpid(), "-", Nonce(), kLeaseSuffix));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return nullptr;
  const std::string body = StrCat("version=", version, "\npid=", ::getpid(), "\nttl_seconds=",
                                  kLeaseTtlSeconds, "\n");
  const bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return nullptr;
  }
  Renewer::Get().Add(path);
  return std::unique_ptr<Lease>(new Lease(path));
}

Lease::~Lease() {
  Renewer::Get().Remove(path_);
  ::unlink(path_.c_str());
}

absl::StatusOr<std::vector<LeaseInfo>> ListLeases(const std::string& dir, int64_t now_micros) {
  const std::string leases = JoinPath(dir, kLeaseDir);
  std::vector<LeaseInfo> out;
  struct stat st;
  if (::stat(leases.c_str(), &st) != 0) return out;
  RETL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(leases));
  for (const std::string& name : names) {
    if (!std::string_view(name).ends_with(kLeaseSuffix)) continue;
    const size_t dash = name.find('-');
    int64_t version;
    if (dash == std::string::npos || !absl::SimpleAtoi(ToAbsl(std::string_view(name).substr(0, dash)), &version)) {
      continue;  // not a lease of ours
    }
    LeaseInfo info;
    info.path = JoinPath(leases, name);
    info.version = version;
    if (::stat(info.path.c_str(), &st) != 0) continue;  // released meanwhile
    info.renewed_micros = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
    info.ttl_seconds = kLeaseTtlSeconds;
    auto body = ReadFile(info.path);
    if (body.ok()) {
      const size_t at = body->find("ttl_seconds=");
      int64_t ttl;
      if (at != std::string::npos) {
        const size_t end = body->find('\n', at);
        if (absl::SimpleAtoi(ToAbsl(std::string_view(*body).substr(at + 12, end - at - 12)), &ttl) && ttl > 0) {
          info.ttl_seconds = ttl;
        }
      }
    }
    info.live = now_micros - info.renewed_micros < info.ttl_seconds * 1000000;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace retl
