// Error handling for rETL DB. Every fallible function returns absl::Status or
// absl::StatusOr<T>; nothing in the library throws. The status code tells the
// caller what to do next:
//   kInvalidArgument   bad flag, SQL, schema or input value: fix the input.
//   kNotFound          unknown table, version, partition or file.
//   kAlreadyExists     table or dataset exists already.
//   kFailedPrecondition the dataset is in a state that forbids the call
//                      (locked by another writer, not a dataset, ...).
//   kDataLoss          bytes on disk are damaged: restore from a copy.
//   kUnimplemented     the file needs a format version or feature this
//                      reader does not know: upgrade the reader.
//   kInternal/kUnknown a bug or an OS failure (kInternal carries errno text).
// Messages name the file, offset, line, column or key involved.
#ifndef RETL_STATUS_H_
#define RETL_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETL_CONCAT_IMPL_(a, b) a##b
#define RETL_CONCAT_(a, b) RETL_CONCAT_IMPL_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK absl::Status.
#define RETL_RETURN_IF_ERROR(expr)                       \
  do {                                                   \
    ::absl::Status retl_status_ = (expr);                \
    if (!retl_status_.ok()) return retl_status_;         \
  } while (false)

// `RETL_ASSIGN_OR_RETURN(auto x, Foo());` assigns the value of a StatusOr or
// returns its error from the enclosing function.
#define RETL_ASSIGN_OR_RETURN(lhs, expr) \
  RETL_ASSIGN_OR_RETURN_IMPL_(RETL_CONCAT_(retl_statusor_, __LINE__), lhs, expr)
#define RETL_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                \
  if (!var.ok()) return std::move(var).status();    \
  lhs = std::move(var).value()

#endif  // RETL_STATUS_H_
