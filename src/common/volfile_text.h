// The characters this daemon lets reach a GlusterFS volfile. Every glusterfsd, self-heal daemon
// and FUSE client parses the volfiles we serve as root, and the parser runs text between
// backticks through a shell, treats `#` as a comment, splits on whitespace and knows the
// keywords volume/type/option/subvolumes/end-volume (docs/volfile-safety.md). So every token we
// write is a run of allowlisted characters that is not a keyword, and the allowlists for names
// and brick paths live here, the one place the API, volgen, the volfile-id parser and the steps
// share. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2 {

// Longest token (xlator name, type, option key or value) written into a volfile.
inline constexpr size_t kMaxVolfileTokenLength = 4096;

// Letters, digits and `. _ - / : , * % + @`: every character of every volfile token.
bool IsVolfileTokenChar(char c);
// Letters, digits and `. _ - : + @`: the characters of a brick path component, and (with '/')
// of a volfile id, so that every brick id a brick path produces is one the id parser accepts.
bool IsBrickPathChar(char c);
// Letters, digits, `_` and `-`: volume names.
bool IsVolumeNameChar(char c);
// True for the words the volfile lexer reads as keywords wherever they stand: "volume",
// "type", "option", "subvolumes", "subvolumeS", "end-volume".
bool IsVolfileKeyword(std::string_view token);

// OK if `token` is 1..kMaxVolfileTokenLength IsVolfileTokenChar characters and not a keyword.
// Otherwise kInvalidArgument naming `what` (e.g. "option value for auth.allow") and the first
// offending character.
Status CheckVolfileToken(std::string_view what, std::string_view token);

// The first character of `token` that IsVolfileTokenChar refuses, described for a message
// ("'`'", "byte 0x0a"), or "" if there is none.
std::string FirstRefusedChar(std::string_view token);

// A copy of `text` safe to put in messages and logs: at most `max` bytes, bytes outside
// printable ASCII shown as '?', "..." appended when cut.
std::string PrintableText(std::string_view text, size_t max = 128);

}  // namespace gd2
