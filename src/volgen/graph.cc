#include "volgen/graph.h"

#include <set>

#include "common/volfile_text.h"

namespace gd2::volgen {
namespace {

// Splits a line into whitespace-separated words.
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

void Xlator::SetOption(std::string_view key, std::string_view value) {
  for (auto& [k, v] : options) {
    if (k == key) {
      v = value;
      return;
    }
  }
  options.emplace_back(key, value);
}

const std::string* Xlator::GetOption(std::string_view key) const {
  for (const auto& [k, v] : options) {
    if (k == key) return &v;
  }
  return nullptr;
}

Xlator& Graph::Add(std::string name, std::string type) {
  xlators.push_back(Xlator{std::move(name), std::move(type), {}, {}});
  return xlators.back();
}

Xlator* Graph::Find(std::string_view name) {
  for (Xlator& x : xlators) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

const Xlator* Graph::Find(std::string_view name) const {
  for (const Xlator& x : xlators) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

StatusOr<std::string> Serialize(const Graph& graph) {
  std::string out;
  for (size_t i = 0; i < graph.xlators.size(); ++i) {
    const Xlator& x = graph.xlators[i];
    GD2_RETURN_IF_ERROR(CheckVolfileToken("xlator name", x.name));
    const std::string where = "xlator " + PrintableText(x.name);
    GD2_RETURN_IF_ERROR(CheckVolfileToken("type of " + where, x.type));
    if (i > 0) out += "\n";
    out += "volume " + x.name + "\n";
    out += "    type " + x.type + "\n";
    for (const auto& [k, v] : x.options) {
      GD2_RETURN_IF_ERROR(CheckVolfileToken("option key in " + where, k));
      GD2_RETURN_IF_ERROR(
          CheckVolfileToken("value of option " + PrintableText(k) + " in " + where, v));
      out += "    option " + k + " " + v + "\n";
    }
    if (!x.subvolumes.empty()) {
      out += "    subvolumes";
      for (const std::string& s : x.subvolumes) {
        GD2_RETURN_IF_ERROR(CheckVolfileToken("subvolume of " + where, s));
        out += " " + s;
      }
      out += "\n";
    }
    out += "end-volume\n";
  }
  return out;
}

StatusOr<Graph> Parse(std::string_view text) {
  Graph g;
  std::set<std::string, std::less<>> defined;
  Xlator* current = nullptr;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    auto fail = [&](std::string_view what) {
      return InvalidArgumentError("volfile line " + std::to_string(line_no) + ": " +
                                  std::string(what));
    };
    std::vector<std::string_view> w = Words(line);
    if (w.empty() || w[0].front() == '#') continue;
    if (w[0] == "volume") {
      if (current != nullptr) return fail("volume inside volume");
      if (w.size() != 2) return fail("expected: volume <name>");
      if (defined.count(w[1]) != 0) return fail("duplicate volume " + std::string(w[1]));
      current = &g.Add(std::string(w[1]), "");
    } else if (current == nullptr) {
      return fail("statement outside a volume: " + std::string(w[0]));
    } else if (w[0] == "type") {
      if (w.size() != 2) return fail("expected: type <category/name>");
      current->type = std::string(w[1]);
    } else if (w[0] == "option") {
      if (w.size() != 3) return fail("expected: option <key> <value>");
      current->SetOption(w[1], w[2]);
    } else if (w[0] == "subvolumes") {
      for (size_t i = 1; i < w.size(); ++i) {
        if (defined.count(w[i]) == 0) return fail("undefined subvolume " + std::string(w[i]));
        current->subvolumes.emplace_back(w[i]);
      }
    } else if (w[0] == "end-volume") {
      if (current->type.empty()) return fail("volume " + current->name + " has no type");
      defined.insert(current->name);
      current = nullptr;
    } else {
      return fail("unknown statement: " + std::string(w[0]));
    }
  }
  if (current != nullptr)
    return InvalidArgumentError("volfile ends inside volume " + current->name);
  if (g.xlators.empty()) return InvalidArgumentError("volfile has no volumes");
  return g;
}

}  // namespace gd2::volgen
