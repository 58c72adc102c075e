// Structured logging: one line per event, a fixed message plus key=value fields, written as
// logfmt or JSON. A Logger carries context fields (req_id, txn_id, peer_id) added with With().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"

namespace gd2::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

// Parses "debug|info|warn|warning|error" and "logfmt|text|json".
StatusOr<Level> ParseLevel(std::string_view s);
StatusOr<Format> ParseFormat(std::string_view s);

struct Field {
  enum class Kind { kString, kInt, kDouble, kBool };
  Field(std::string_view k, std::string_view v) : key(k), text(v) {}
  Field(std::string_view k, const char* v) : key(k), text(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), text(v) {}
  Field(std::string_view k, bool v) : key(k), text(v ? "true" : "false"), kind(Kind::kBool) {}
  Field(std::string_view k, double v);
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Field(std::string_view k, I v) : key(k), text(std::to_string(v)), kind(Kind::kInt) {}
  Field(std::string_view k, const Status& s) : key(k), text(s.ToString()) {}

  std::string key;
  std::string text;
  Kind kind = Kind::kString;
};
using Fields = std::vector<Field>;

// Configures the process-wide sink. `file` empty or "-" means stderr. Thread-safe.
Status Configure(Level level, Format format, const std::string& file);
// Reopens the log file (after rotation, on SIGHUP).
void Reopen();
bool Enabled(Level level);
// Formats one event; exposed for tests.
std::string FormatLine(Format format, Level level, std::string_view msg, const Fields& ctx,
                       std::initializer_list<Field> fields);

class Logger {
 public:
  Logger() = default;
  explicit Logger(Fields ctx) : ctx_(std::move(ctx)) {}

  // Returns a logger whose lines also carry `fields`.
  Logger With(std::initializer_list<Field> fields) const;

  void Debug(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kDebug, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kInfo, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kWarn, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kError, msg, f);
  }
  void Write(Level level, std::string_view msg, std::initializer_list<Field> f) const;

 private:
  Fields ctx_;
};

// The process-wide logger with the daemon's base fields (peer_id once known).
Logger& Root();
void SetRoot(Logger logger);

}  // namespace gd2::log
