#include "error_fields.h"

#ifndef PG_DIAG_SEVERITY_NONLOCALIZED
#define PG_DIAG_SEVERITY_NONLOCALIZED 'V'
#endif

namespace pqnode {

namespace {

struct FieldName {
  int code;
  const char* name;
};

// Names as lib/native.ts (NativeErrorFields) spells them.
constexpr FieldName kFields[] = {
    {PG_DIAG_SEVERITY, "severity"},
    {PG_DIAG_SEVERITY_NONLOCALIZED, "severityNonlocalized"},
    {PG_DIAG_SQLSTATE, "sqlstate"},
    {PG_DIAG_MESSAGE_PRIMARY, "messagePrimary"},
    {PG_DIAG_MESSAGE_DETAIL, "messageDetail"},
    {PG_DIAG_MESSAGE_HINT, "messageHint"},
    {PG_DIAG_STATEMENT_POSITION, "statementPosition"},
    {PG_DIAG_INTERNAL_POSITION, "internalPosition"},
    {PG_DIAG_INTERNAL_QUERY, "internalQuery"},
    {PG_DIAG_CONTEXT, "context"},
    {PG_DIAG_SCHEMA_NAME, "schemaName"},
    {PG_DIAG_TABLE_NAME, "tableName"},
    {PG_DIAG_COLUMN_NAME, "columnName"},
    {PG_DIAG_DATATYPE_NAME, "datatypeName"},
    {PG_DIAG_CONSTRAINT_NAME, "constraintName"},
    {PG_DIAG_SOURCE_FILE, "sourceFile"},
    {PG_DIAG_SOURCE_LINE, "sourceLine"},
    {PG_DIAG_SOURCE_FUNCTION, "sourceFunction"},
};

const char* NameOf(int code) {
  for (const auto& field : kFields) {
    if (field.code == code) return field.name;
  }
  return nullptr;
}

}  // namespace

ErrorFieldList CopyErrorFields(const PGresult* result) {
  ErrorFieldList list;
  for (const auto& field : kFields) {
    const char* value = PQresultErrorField(result, field.code);
    if (value != nullptr) list.emplace_back(field.code, value);
  }
  return list;
}

Napi::Object ErrorFieldsToObject(Napi::Env env, const ErrorFieldList& fields) {
  Napi::Object object = Napi::Object::New(env);
  for (const auto& [code, value] : fields) {
    const char* name = NameOf(code);
    if (name != nullptr) object.Set(name, Napi::String::New(env, value));
  }
  return object;
}

Napi::Object ErrorFieldsToObject(Napi::Env env, const PGresult* result) {
  Napi::Object object = Napi::Object::New(env);
  for (const auto& field : kFields) {
    const char* value = PQresultErrorField(result, field.code);
    if (value != nullptr) object.Set(field.name, Napi::String::New(env, value));
  }
  return object;
}

}  // namespace pqnode
