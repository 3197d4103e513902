// Full verification of one version of a dataset (`retl-build verify`): every
// byte of every file is read and every rule of FORMAT.md is checked. Costs a
// full read of the version; opening a snapshot checks much less.
#ifndef RETL_VERIFY_H_
#define RETL_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "retl/export.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

struct RETL_EXPORT VerifyReport {
  int64_t version = 0;
  int64_t tables = 0;
  int64_t partitions = 0;
  int64_t segments = 0;
  int64_t blocks = 0;
  RowIndex rows = 0;
  uint64_t bytes = 0;
  // Empty when the version is sound; otherwise one line per problem, each
  // naming the file (and offset, block, column or key) involved.
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Checks: CURRENT and the manifest decode; every segment file exists with the
// size and whole-file checksum the manifest records; every footer and chunk
// decodes with matching checksums, statistics and row counts; schemas match;
// rows are sorted and unique by primary key within the table, with no NULL
// keys; each row's partition column matches its partition. A non-OK status
// means verification itself could not run (e.g. no such version).
RETL_EXPORT absl::StatusOr<VerifyReport> VerifyVersion(const std::string& dir, int64_t version);

}  // namespace retl

#endif  // RETL_VERIFY_H_
