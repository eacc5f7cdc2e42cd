// Private: the lookup shared by the engine's name tables (activations, losses, initialisers).
// Each table lists its canonical names once, in its enum's order, and the aliases users bring;
// parsing is exact (no case folding), and an unknown name is refused with the canonical list.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fastmlp::detail {

template <class Enum, std::size_t Names, std::size_t Aliases>
struct NameTable {
  std::string_view kind;  // "activation", "loss", ... for the error message
  std::array<std::pair<std::string_view, Enum>, Names> names;
  std::array<std::pair<std::string_view, Enum>, Aliases> aliases;

  Enum parse(std::string_view name) const {
    for (const auto& [known, value] : names)
      if (known == name) return value;
    for (const auto& [alias, value] : aliases)
      if (alias == name) return value;
    std::string message = "unknown " + std::string(kind) + " '" + std::string(name) + "'; expected one of:";
    for (const auto& entry : names) message += " " + std::string(entry.first);
    throw std::invalid_argument(message);
  }

  std::string name(Enum value) const {
    for (const auto& [known, candidate] : names)
      if (candidate == value) return std::string(known);
    throw std::logic_error(std::string(kind) + " without a name");
  }

  std::vector<std::string> canonical() const {
    std::vector<std::string> result;
    for (const auto& entry : names) result.emplace_back(entry.first);
    return result;
  }

  std::vector<std::pair<std::string, std::string>> alias_pairs() const {
    std::vector<std::pair<std::string, std::string>> result;
    for (const auto& [alias, value] : aliases) result.emplace_back(alias, name(value));
    return result;
  }
};

}  // namespace fastmlp::detail
