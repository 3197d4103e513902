// Point lookups in a rETL dataset through the public API (docs/lookups.md).
//
//   retl-lookup-example DIR [CUSTOMER_ID...]
//
// Opens the dataset DIR, takes a snapshot of its live version and, in table
// `customers` (as docs/lookups.md §5 builds it from retl-gen-customers, with
// `--index email`):
//   1. looks up the first CUSTOMER_ID by primary key and prints the row;
//   2. looks up every CUSTOMER_ID at once (GetBatch), printing their emails;
//   3. finds every customer with the email of the row found in 1 through the
//      secondary index "email", printing three columns.
// The default ids, 12345 and 2654448106, are the first two rows that
// retl-gen-customers writes. Exits 1 on an error, 2 on bad arguments.
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "retl/dataset.h"
#include "retl/lookup.h"

namespace {

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "retl-lookup-example: %s: %s\n", what,
               std::string(status.message()).c_str());
  return 1;
}

// Every column of `row` as "name  value", NULL shown as NULL.
void PrintRow(const retl::RowView& row) {
  for (int c = 0; c < row.num_columns(); ++c) {
    std::printf("  %-14s %s\n", row.field(c).name.c_str(),
                row.IsNull(c) ? "NULL" : row.GetText(c).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [CUSTOMER_ID...]\n", argv[0]);
    return 2;
  }
  std::vector<int64_t> ids;
  for (int i = 2; i < argc; ++i) {
    char* end = nullptr;
    errno = 0;
    ids.push_back(std::strtoll(argv[i], &end, 10));
    if (errno != 0 || end == argv[i] || *end != '\0') {
      std::fprintf(stderr, "retl-lookup-example: CUSTOMER_ID must be an integer, got '%s'\n",
                   argv[i]);
      return 2;
    }
  }
  if (ids.empty()) ids = {12345, 2654448106};

  // Open the dataset and take a snapshot of its live version. The snapshot
  // (and every Lookup opened on it) keeps reading that version, unchanged,
  // however many versions writers commit meanwhile.
  absl::StatusOr<std::unique_ptr<retl::Dataset>> dataset = retl::Dataset::Open(argv[1]);
  if (!dataset.ok()) return Fail("open", dataset.status());
  absl::StatusOr<std::shared_ptr<const retl::Snapshot>> snapshot = (*dataset)->Latest();
  if (!snapshot.ok()) return Fail("snapshot", snapshot.status());
  std::printf("version %" PRId64 "\n", (*snapshot)->version());

  // 1. Primary key: at most one row per key.
  absl::StatusOr<retl::Lookup> by_id = retl::Lookup::Open(*snapshot, "customers");
  if (!by_id.ok()) return Fail("open lookup", by_id.status());
  retl::RowView row;
  absl::StatusOr<bool> found = by_id->Get(retl::KeyValue::Int(ids[0]), &row);
  if (!found.ok()) return Fail("get", found.status());
  if (*found) {
    std::printf("\ncustomer %" PRId64 ":\n", ids[0]);
    PrintRow(row);
  } else {
    std::printf("\ncustomer %" PRId64 ": not found\n", ids[0]);
  }

  // 2. A batch: one KeyValue per key column per key (the primary key has one
  // column here), probed together in a pipeline. The callback runs for each
  // key that has a row, in key order, with that row's values in cache.
  std::vector<retl::KeyValue> keys;
  for (int64_t id : ids) keys.push_back(retl::KeyValue::Int(id));
  std::vector<bool> seen(keys.size());
  std::printf("\nbatch:\n");
  absl::Status batch = by_id->GetBatch(keys, [&](size_t i, const retl::RowView& r) {
    seen[i] = true;
    const int email = r.column_index("email");
    std::printf("  %" PRId64 ": %s\n", keys[i].int_value(),
                email < 0 || r.IsNull(email) ? "NULL" : r.GetText(email).c_str());
  });
  if (!batch.ok()) return Fail("batch", batch);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!seen[i]) std::printf("  %" PRId64 ": not found\n", keys[i].int_value());
  }

  // 3. A secondary index, with a projection: only the columns asked for, in
  // that order. A non-unique index may hold several rows per key; Find
  // appends them all.
  const int email_column = *found ? row.column_index("email") : -1;
  if (email_column < 0 || row.IsNull(email_column)) return 0;
  // GetBytes is a view into the mapped file, valid while `by_id` lives;
  // copy it to keep it longer.
  const std::string email(row.GetBytes(email_column));
  retl::LookupOptions options;
  options.index = "email";
  options.columns = {"customer_id", "email", "country"};
  absl::StatusOr<retl::Lookup> by_email = retl::Lookup::Open(*snapshot, "customers", options);
  if (!by_email.ok()) return Fail("open email index", by_email.status());
  std::vector<retl::KeyValue> key = {retl::KeyValue::Bytes(email)};
  std::vector<retl::RowView> matches;
  if (absl::Status s = by_email->Find(key, &matches); !s.ok()) return Fail("find", s);
  std::printf("\nemail %s: %zu row%s\n", email.c_str(), matches.size(),
              matches.size() == 1 ? "" : "s");
  for (const retl::RowView& m : matches) {
    std::printf("  %" PRId64 "  %s  %s\n", m.GetInt(0), m.GetText(1).c_str(),
                m.IsNull(2) ? "NULL" : m.GetText(2).c_str());
  }
  return 0;
}
