// The glustercli command tree, one function per top-level command group.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace gd2::cli {

// Each adds its subcommands to `app`; a command's callback stores its exit code in `*rc`.
void AddPeerCommands(CLI::App& app, Context& ctx, int* rc);
void AddServiceCommands(CLI::App& app, Context& ctx, int* rc);
void AddVolumeCommands(CLI::App& app, Context& ctx, int* rc);

}  // namespace gd2::cli
