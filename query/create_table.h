// CREATE TABLE: how `retl-build import --schema FILE` declares a table. The
// statement is parsed into a retl::Schema; Schema::ToSql() writes statements
// this parser reads back to an equal schema.
//
//   CREATE TABLE [IF NOT EXISTS] name ( element [, element]* )
//       [PARTITION BY ( column ) | PARTITION BY column] [;]
//   element     := column_def | PRIMARY KEY ( column [, column]* )
//                | INDEX [name] ( column [, column]* )
//   column_def  := name type [NOT NULL | NULL | PRIMARY KEY]*
//   type        := word [word]* [( integer [, integer]* )]
//
// Semantics (PostgreSQL's, except for case folding):
//   - Keywords are case-insensitive; names keep their spelling as written,
//     unquoted ones too (no case folding, to match CSV headers), and are
//     compared exactly. A keyword is a name wherever a name is expected, so
//     CREATE TABLE t (select INT PRIMARY KEY) declares a column "select".
//   - A type is its words and arguments as ParseDataType() reads them:
//     DOUBLE PRECISION, CHARACTER VARYING(255), DECIMAL(10, 2),
//     TIMESTAMP WITH TIME ZONE. After the first word only PRECISION,
//     VARYING, WITH, WITHOUT, TIME and ZONE continue a type name.
//   - The table has exactly one primary key, declared on one column or as a
//     table element in any position; its columns become NOT NULL. A key
//     column declared NULL is an error, as is NULL/NOT NULL declared twice.
//   - INDEX declares a secondary hash index (FORMAT.md §12); without a name
//     it is named after its columns joined by '_' (INDEX (a, b) is "a_b").
//   - DEFAULT, UNIQUE, CHECK, REFERENCES, FOREIGN KEY, COLLATE, GENERATED
//     and named constraints (CONSTRAINT name ...) are rejected as not
//     supported; schema-qualified names (s.t) too.
//   - The result passes Schema::Validate().
//
// Errors are kInvalidArgument "line L, column C: ..." naming what was
// expected and what was found, e.g. "line 3, column 14: expected ')' or ','
// after column definition, found 'foo'".
//
// Thread-safety: all functions are pure.
#ifndef RETL_QUERY_CREATE_TABLE_H_
#define RETL_QUERY_CREATE_TABLE_H_

#include <string>
#include <string_view>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

struct CreateTableStatement {
  // As written (unescaped if quoted). Not checked beyond being non-empty:
  // callers that use it as a file or directory name must validate it.
  std::string table_name;
  bool if_not_exists = false;
  Schema schema;
};

// Parses exactly one CREATE TABLE statement with an optional trailing ';'.
// Comments and whitespace may appear anywhere between tokens; anything else
// after the statement is an error ("line 5, column 1: expected end of input
// after CREATE TABLE statement, found 'SELECT'").
absl::StatusOr<CreateTableStatement> ParseCreateTable(std::string_view sql);

}  // namespace retl

#endif  // RETL_QUERY_CREATE_TABLE_H_
