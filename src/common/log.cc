#include "common/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/thread_annotations.h"

namespace gd2::log {
namespace {

struct Sink {
  Mutex mu;
  std::atomic<Level> level{Level::kInfo};
  std::atomic<Format> format{Format::kLogfmt};
  std::string path GD2_GUARDED_BY(mu);
  FILE* out GD2_GUARDED_BY(mu) = nullptr;  // stderr when null
};

Sink& GetSink() {
  static Sink* sink = new Sink();  // never destroyed: logging may happen during exit
  return *sink;
}

Logger& RootStorage() {
  static Logger* root = new Logger();
  return *root;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm t{};
  gmtime_r(&tv.tv_sec, &t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &t);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06ldZ", static_cast<long>(tv.tv_usec));
  return buf;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

void AppendLogfmtValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\x%02x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendJsonField(nlohmann::json& j, const Field& f) {
  switch (f.kind) {
    case Field::Kind::kInt: j[f.key] = nlohmann::json::parse(f.text, nullptr, false); break;
    case Field::Kind::kDouble: j[f.key] = std::strtod(f.text.c_str(), nullptr); break;
    case Field::Kind::kBool: j[f.key] = (f.text == "true"); break;
    case Field::Kind::kString: j[f.key] = f.text; break;
  }
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), kind(Kind::kDouble) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  text = buf;
}

// Appends to `path`, never through a symlink (a log directory others can write must not let
// them point the daemon's log at another file).
static FILE* OpenLogFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return nullptr;
  FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) ::close(fd);
  return f;
}

StatusOr<Level> ParseLevel(std::string_view s) {
  if (s == "debug" || s == "DEBUG") return Level::kDebug;
  if (s == "info" || s == "INFO") return Level::kInfo;
  if (s == "warn" || s == "warning" || s == "WARN" || s == "WARNING") return Level::kWarn;
  if (s == "error" || s == "ERROR") return Level::kError;
  return InvalidArgumentError("unknown log level: " + std::string(s) +
                              " (want debug, info, warn or error)");
}

StatusOr<Format> ParseFormat(std::string_view s) {
  if (s == "logfmt" || s == "text") return Format::kLogfmt;
  if (s == "json") return Format::kJson;
  return InvalidArgumentError("unknown log format: " + std::string(s) + " (want logfmt or json)");
}

Status Configure(Level level, Format format, const std::string& file) {
  Sink& s = GetSink();
  FILE* out = nullptr;
  if (!file.empty() && file != "-") {
    out = OpenLogFile(file);
    if (out == nullptr) return ErrnoError("open log file " + file, errno);
  }
  MutexLock lock(s.mu);
  if (s.out != nullptr) std::fclose(s.out);
  s.level = level;
  s.format = format;
  s.path = (out != nullptr) ? file : "";
  s.out = out;
  return OkStatus();
}

void Reopen() {
  Sink& s = GetSink();
  MutexLock lock(s.mu);
  if (s.out == nullptr || s.path.empty()) return;
  FILE* out = OpenLogFile(s.path);
  if (out == nullptr) return;
  std::fclose(s.out);
  s.out = out;
}

bool Enabled(Level level) { return level >= GetSink().level; }

std::string FormatLine(Format format, Level level, std::string_view msg, const Fields& ctx,
                       std::initializer_list<Field> fields) {
  if (format == Format::kJson) {
    nlohmann::json j;
    j["time"] = Timestamp();
    j["level"] = LevelName(level);
    j["msg"] = msg;
    for (const Field& f : ctx) AppendJsonField(j, f);
    for (const Field& f : fields) AppendJsonField(j, f);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out = Timestamp();
  out += ' ';
  out += LevelName(level);
  out += ' ';
  out += msg;
  for (const Field& f : ctx) {
    out += ' ';
    out += f.key;
    out += '=';
    AppendLogfmtValue(out, f.text);
  }
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    AppendLogfmtValue(out, f.text);
  }
  out += '\n';
  return out;
}

Logger Logger::With(std::initializer_list<Field> fields) const {
  Fields ctx = ctx_;
  ctx.insert(ctx.end(), fields.begin(), fields.end());
  return Logger(std::move(ctx));
}

void Logger::Write(Level level, std::string_view msg, std::initializer_list<Field> f) const {
  Sink& s = GetSink();
  if (level < s.level) return;
  std::string line = FormatLine(s.format, level, msg, ctx_, f);
  MutexLock lock(s.mu);
  FILE* out = s.out != nullptr ? s.out : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

Logger& Root() { return RootStorage(); }
void SetRoot(Logger logger) { RootStorage() = std::move(logger); }

}  // namespace gd2::log
