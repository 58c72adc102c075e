// The option table volgen's tests run against: built from the volume plugin's definitions the
// way the daemon builds it from what the volume plugin registers.
#pragma once

#include "plugins/volume/options.h"
#include "volgen/options.h"

namespace gd2::volgen {

inline const OptionTable& Table() {
  static const OptionTable* table = [] {
    StatusOr<OptionTable> t = OptionTable::Create(plugins::volume::VolumeOptionDefs());
    GD2_CHECK(t.ok());
    return new OptionTable(std::move(t).value());
  }();
  return *table;
}

}  // namespace gd2::volgen
