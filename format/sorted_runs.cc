#include "format/sorted_runs.h"
#include "format/strings.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "format/file_util.h"

namespace retl {

namespace {

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads a T at `*pos` of `data`, or fails if the page is short.
template <typename T>
bool Get(std::string_view data, size_t* pos, T* v) {
  if (data.size() - *pos < sizeof(T)) return false;
  std::memcpy(v, data.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SortedRunFile>> SortedRunFile::Create(const std::string& dir, std::vector<Field> fields) {
  const int fd = OpenUnnamedFile(dir);
  if (fd < 0) {
    return absl::InternalError(StrCat("cannot create a spill file in '", dir, "': ", strerror(errno)));
  }
  return std::unique_ptr<SortedRunFile>(new SortedRunFile(dir, fd, std::move(fields)));
}

SortedRunFile::~SortedRunFile() { ::close(fd_); }

absl::StatusOr<SortedRun> SortedRunFile::WriteRun(const std::vector<Column>& columns, std::span<const RowIndex> order,
                                             std::span<const uint64_t> origins, RowIndex page_rows) {
  SortedRun run;
  std::string page;
  const RowIndex n = static_cast<RowIndex>(order.size());
  for (RowIndex start = 0; start < n; start += page_rows) {
    const std::span<const RowIndex> rows = order.subspan(start, std::min(page_rows, n - start));
    page.clear();
    for (const Column& c : columns) {
      const bool nulls = c.null_count() > 0;
      page.push_back(nulls ? 1 : 0);
      if (nulls) {
        for (RowIndex r : rows) page.push_back(static_cast<char>(c.IsValid(r) ? 1 : 0));
      }
      if (c.type().physical() == PhysicalType::kBytes) {
        uint64_t total = 0;
        for (RowIndex r : rows) {
          const uint64_t len = c.offsets()[r + 1] - c.offsets()[r];
          if (len > UINT32_MAX) return absl::InvalidArgumentError("a single STRING or BINARY value is 4 GiB or larger");
          Put<uint32_t>(&page, static_cast<uint32_t>(len));
          total += len;
        }
        page.reserve(page.size() + total);
        for (RowIndex r : rows) page.append(c.GetBytes(r));
      } else {
        const int w = c.type().FixedWidth();
        const char* data = reinterpret_cast<const char*>(c.fixed_data());
        for (RowIndex r : rows) page.append(data + r * w, w);
      }
    }
    for (RowIndex r : rows) Put<uint64_t>(&page, origins[r]);
    for (size_t done = 0; done < page.size();) {
      const ssize_t k = ::pwrite(fd_, page.data() + done, page.size() - done, static_cast<off_t>(size_ + done));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        return absl::ResourceExhaustedError(StrCat(
            "cannot write rows spilled to disk in '", dir_, "': ", k < 0 ? strerror(errno) : "short write",
            "; free disk space there, or raise --memory-limit so that fewer rows spill"));
      }
      done += static_cast<size_t>(k);
    }
    run.pages.push_back(RunPageInfo{size_, page.size(), static_cast<RowIndex>(rows.size())});
    run.rows += static_cast<RowIndex>(rows.size());
    size_ += page.size();
  }
  return run;
}

absl::StatusOr<RunPage> SortedRunFile::ReadPage(const RunPageInfo& info) const {
  std::string data(info.length, '\0');
  for (size_t done = 0; done < data.size();) {
    const ssize_t k = ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(info.offset + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      return absl::InternalError(StrCat("cannot read rows spilled to disk in '", dir_, "': ",
                                        k < 0 ? strerror(errno) : "short read"));
    }
    done += static_cast<size_t>(k);
  }
  auto damaged = [&] { return absl::InternalError(StrCat("rows spilled to disk in '", dir_, "' read back damaged")); };
  const RowIndex n = info.rows;
  RunPage page;
  size_t pos = 0;
  for (const Field& f : fields_) {
    Column c(f.type);
    c.Reserve(n);
    uint8_t nulls = 0;
    if (!Get(data, &pos, &nulls)) return damaged();
    const uint8_t* validity = nullptr;
    if (nulls != 0) {
      if (data.size() - pos < static_cast<size_t>(n)) return damaged();
      validity = reinterpret_cast<const uint8_t*>(data.data() + pos);
      pos += n;
    }
    if (f.type.physical() == PhysicalType::kBytes) {
      if (data.size() - pos < static_cast<size_t>(n) * 4) return damaged();
      const char* lengths = data.data() + pos;
      pos += static_cast<size_t>(n) * 4;
      for (RowIndex r = 0; r < n; ++r) {
        uint32_t len;
        std::memcpy(&len, lengths + r * 4, 4);
        if (data.size() - pos < len) return damaged();
        if (validity != nullptr && validity[r] == 0) {
          c.AppendNull();
        } else {
          c.AppendBytes(std::string_view(data.data() + pos, len));
        }
        pos += len;
      }
    } else {
      const size_t bytes = static_cast<size_t>(n) * f.type.FixedWidth();
      if (data.size() - pos < bytes) return damaged();
      c.AppendFixedValues(reinterpret_cast<const uint8_t*>(data.data() + pos), n, validity);
      pos += bytes;
    }
    page.columns.push_back(std::move(c));
  }
  if (data.size() - pos != static_cast<size_t>(n) * 8) return damaged();
  page.origins.resize(n);
  std::memcpy(page.origins.data(), data.data() + pos, static_cast<size_t>(n) * 8);
  return page;
}

}  // namespace retl
