// Shared by the libFuzzer target (sql_fuzz.cc) and the corpus replay test
// (sql_fuzz_corpus_test.cc): a small dataset and the function that runs one
// input through parser, binder, planner and executor.
#ifndef RETL_TESTS_FUZZ_SQL_FUZZ_SUPPORT_H_
#define RETL_TESTS_FUZZ_SQL_FUZZ_SUPPORT_H_

#include <string_view>

namespace retl {

// Runs every statement of `sql` that parses against a small built-in dataset
// (created once per process in a temporary directory). Errors are expected and
// ignored; only crashes and sanitizer reports matter.
void RunFuzzInput(std::string_view sql);

}  // namespace retl

#endif  // RETL_TESTS_FUZZ_SQL_FUZZ_SUPPORT_H_
