// Key probes for the writer (FORMAT.md §12.7): whether new keys already
// exist in given segments, through their primary indexes when they have them.
#ifndef RETL_FORMAT_LOOKUP_INTERNAL_H_
#define RETL_FORMAT_LOOKUP_INTERNAL_H_

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "format/index.h"
#include "format/segment.h"
#include "retl/catalog.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

struct KeyProbeSegment {
  std::shared_ptr<const Segment> segment;
  std::shared_ptr<const IndexFile> index;  // may be null: binary search by key
  const PartitionInfo* partition = nullptr;
};

// The first row of `columns` (one per schema field) whose primary key is in
// one of `segments`, with the index of that segment; nullopt if none is.
absl::StatusOr<std::optional<std::pair<RowIndex, size_t>>> FindExistingKey(
    const Schema& schema, const std::vector<Column>& columns,
    const std::vector<KeyProbeSegment>& segments);

}  // namespace retl

#endif  // RETL_FORMAT_LOOKUP_INTERNAL_H_
