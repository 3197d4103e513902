// String building that accepts std::string_view.
//
// Debian's Abseil is built with its own absl::string_view class rather than
// std::string_view, so absl::StrCat and friends reject std::string_view
// arguments. These wrappers convert views and forward everything else, so the
// rest of the code can use std::string_view throughout.
#ifndef RETL_FORMAT_STRINGS_H_
#define RETL_FORMAT_STRINGS_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace retl {

namespace strings_internal {
template <typename T>
decltype(auto) Adapt(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_same_v<T, std::string> && !std::is_convertible_v<const T&, const char*>) {
    std::string_view sv = v;
    return absl::string_view(sv.data(), sv.size());
  } else {
    return (v);
  }
}
}  // namespace strings_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(strings_internal::Adapt(args)...);
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, strings_internal::Adapt(args)...);
}

// `status` with `prefix` put before its message, keeping its code.
inline absl::Status Annotate(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), StrCat(prefix, status.message()));
}

// absl::string_view -> std::string_view.
inline std::string_view ToStd(absl::string_view v) { return std::string_view(v.data(), v.size()); }
inline absl::string_view ToAbsl(std::string_view v) { return absl::string_view(v.data(), v.size()); }

}  // namespace retl

#endif  // RETL_FORMAT_STRINGS_H_
