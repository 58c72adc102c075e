// The volume options the volume plugin registers (Registrar::AddOption): the xlator options of
// the brick, client and self-heal daemon graphs that glusterd 10.3 offers and volgen writes. Its
// own small library (gd2_plugin_volume_options) so that volgen's tests build the same table.
#pragma once

#include <vector>

#include "volgen/options.h"

namespace gd2::plugins::volume {

// Every volume option, in no particular order (volgen::OptionTable sorts them).
std::vector<volgen::OptionDef> VolumeOptionDefs();

}  // namespace gd2::plugins::volume
