// libFuzzer target for the SQL front end: every input is parsed, and each
// statement that parses is bound, planned and run against a small dataset
// (tests/fuzz/README.md). Any crash, sanitizer report or hang is a bug: bad
// SQL must only ever produce an error status.
//
// Built only with -DRETL_FUZZ=ON and clang (see tests/fuzz/README.md); the
// corpus it grew is replayed by sql_fuzz_corpus_test in every test run.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/sql_fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  retl::RunFuzzInput(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
