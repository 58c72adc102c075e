#include "common/volfile_text.h"

#include <array>

#include "common/hex.h"

namespace gd2 {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string Describe(char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  return "byte 0x" + HexBytes(&c, 1);
}

}  // namespace

bool IsVolfileTokenChar(char c) {
  switch (c) {
    case '.':
    case '_':
    case '-':
    case '/':
    case ':':
    case ',':
    case '*':
    case '%':
    case '+':
    case '@':
      return true;
    default:
      return IsAlnum(c);
  }
}

bool IsBrickPathChar(char c) {
  switch (c) {
    case '.':
    case '_':
    case '-':
    case ':':
    case '+':
    case '@':
      return true;
    default:
      return IsAlnum(c);
  }
}

bool IsVolumeNameChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }

bool IsVolfileKeyword(std::string_view token) {
  static constexpr std::array<std::string_view, 6> kKeywords = {
      "volume", "type", "option", "subvolumes", "subvolumeS", "end-volume"};
  for (std::string_view k : kKeywords) {
    if (token == k) return true;
  }
  return false;
}

Status CheckVolfileToken(std::string_view what, std::string_view token) {
  const std::string name(what);
  if (token.empty()) return InvalidArgumentError(name + " is empty");
  if (token.size() > kMaxVolfileTokenLength) {
    return InvalidArgumentError(name + " is longer than " + std::to_string(kMaxVolfileTokenLength) +
                                " characters");
  }
  for (char c : token) {
    if (!IsVolfileTokenChar(c)) {
      return InvalidArgumentError(
          name + " has a character not allowed in a volfile (" + Describe(c) +
          "; allowed: letters, digits and . _ - / : , * % + @): " + PrintableText(token));
    }
  }
  if (IsVolfileKeyword(token)) {
    return InvalidArgumentError(name + " is a volfile keyword: " + std::string(token));
  }
  return OkStatus();
}

std::string FirstRefusedChar(std::string_view token) {
  for (char c : token) {
    if (!IsVolfileTokenChar(c)) return Describe(c);
  }
  return "";
}

std::string PrintableText(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace gd2
