// An xlator graph as written in a GlusterFS volfile: `volume <name> / type <t> / option k v /
// subvolumes a b / end-volume` blocks, children before parents, the last block being the top.
// Serialize and Parse round-trip; Parse exists for tests and tools that compare volfiles.
// Serialize is the last guard before text reaches the processes that run it: it writes only
// tokens that pass common/volfile_text.h, whatever the graph holds.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gd2::volgen {

struct Xlator {
  std::string name;
  std::string type;  // "protocol/client", "cluster/replicate", ...
  std::vector<std::pair<std::string, std::string>> options;  // in the order written
  std::vector<std::string> subvolumes;                       // names of children, in order

  // Replaces the value of `key` if present, else appends it.
  void SetOption(std::string_view key, std::string_view value);
  // Returns the value of `key`, or nullptr.
  const std::string* GetOption(std::string_view key) const;
};

struct Graph {
  std::vector<Xlator> xlators;  // children before parents; back() is the top of the graph

  // Appends an xlator and returns a reference valid until the next Add.
  Xlator& Add(std::string name, std::string type);
  Xlator* Find(std::string_view name);
  const Xlator* Find(std::string_view name) const;
  const Xlator& Top() const { return xlators.back(); }
};

// Writes the graph in glusterd's volfile layout (4-space indent, blank line between blocks).
// Returns kInvalidArgument, and no text, if any xlator name, type, option key, option value or
// subvolume name is not a volfile token (CheckVolfileToken: empty, too long, a character outside
// the allowlist such as '`' '"' '\' '#' '$' or whitespace, or a keyword), naming the xlator and
// the field. A graph is never partly written.
StatusOr<std::string> Serialize(const Graph& graph);

// Parses volfile text. Returns kInvalidArgument with the line number for a malformed file, a
// duplicate xlator name, or a subvolume that is not defined earlier in the file.
StatusOr<Graph> Parse(std::string_view text);

}  // namespace gd2::volgen
