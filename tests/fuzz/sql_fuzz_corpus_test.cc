// Replays the corpus the SQL fuzzer grew (tests/fuzz/sql_corpus/) through the
// parser, binder, planner and executor: every input must end in a result or an
// error status, never a crash (the sanitizer build runs this too).
#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/sql_fuzz_support.h"

namespace retl {
namespace {

TEST(SqlFuzzCorpus, EveryInputEndsInAResultOrAnError) {
  const std::string dir = RETL_SQL_CORPUS_DIR;
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
    }
    closedir(d);
  }
  ASSERT_GT(files.size(), 20u) << "the corpus in " << dir << " is missing";
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    SCOPED_TRACE(f);
    RunFuzzInput(ss.str());
  }
}

}  // namespace
}  // namespace retl
