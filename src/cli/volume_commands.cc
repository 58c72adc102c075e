// `glustercli volume ...`: create, start, stop, delete, list, info, status, get, set, reset and
// heal info. Argument interpretation lives in cli/volume_args.h (pure, unit-tested); this file
// wires CLI11 to it and to client/client.h.
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/volume_args.h"
#include "client/client.h"

namespace gd2::cli {
namespace {

// A bad command line found after CLI11 parsed it: same output and exit code (2) as main.cc
// gives CLI11's own parse errors.
int Usage(const Status& s) {
  std::fprintf(stderr, "Error: %s\nRun with --help for usage.\n", s.message().c_str());
  return 2;
}

nlohmann::json VolumesJson(const std::vector<api::Volume>& volumes) {
  nlohmann::json j = nlohmann::json::array();
  for (const api::Volume& v : volumes) j.push_back(api::VolumeToJson(v));
  return j;
}

std::string Example(const std::string& text) { return "\nExample:\n" + text; }

void AddCreate(CLI::App& vol, Context& ctx, int* rc) {
  auto a = std::make_shared<VolumeCreateArgs>();
  CLI::App* cmd =
      vol.add_subcommand("create", "Create a volume from bricks given as <host-or-peerid>:<path>");
  cmd->footer(
      "\nA brick's host may be a peer id, a peer name or one of a peer's addresses.\n"
      "Layout: with --replica N, consecutive groups of N bricks form a replica set; with\n"
      "--arbiter 1 the last brick of each set is the arbiter ('replica 2 arbiter 1' also means\n"
      "sets of 3). With --disperse N (or --disperse-data D --redundancy R), groups of N (D+R)\n"
      "bricks form a disperse set. Otherwise the volume is plain distribute.\n"
      "The legacy words 'replica N', 'arbiter N', 'disperse N', 'disperse-data N',\n"
      "'redundancy N', 'transport T' and 'force' are accepted anywhere after the name.\n" +
      Example("  glustercli volume create gv0 replica 3 node1:/bricks/b1 node2:/bricks/b1 "
              "node3:/bricks/b1\n"
              "  glustercli volume create gv1 --replica 3 --arbiter 1 n1:/b/1 n2:/b/1 n3:/b/a \\\n"
              "      --options performance.quick-read:off,cluster.eager-lock:on\n"
              "  glustercli volume create scratch 127.0.0.1:/srv/b1 127.0.0.1:/srv/b2 "
              "--allow-root-dir --force"));
  cmd->add_option("name", a->name, "volume name: letters, digits, '_' and '-'")->required();
  cmd->add_option("bricks", a->words, "bricks <host-or-peerid>:<path> (and legacy words)")
      ->required();
  cmd->add_option("--replica", a->replica, "bricks per replica set");
  cmd->add_option("--arbiter", a->arbiter, "1: the last brick of each replica set is an arbiter");
  cmd->add_option("--disperse", a->disperse, "bricks per disperse set");
  cmd->add_option("--disperse-data", a->disperse_data, "data bricks per disperse set");
  cmd->add_option("--redundancy", a->redundancy, "redundancy bricks per disperse set");
  cmd->add_option("--transport", a->transport, "tcp (default) or rdma");
  cmd->add_flag("-f,--force", a->force, "relax the brick checks");
  cmd->add_option("--options", a->options, "volume options as key:value,key:value (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--allow-advanced-options", a->allow_advanced_options, "allow advanced options");
  cmd->add_flag("--allow-experimental-options", a->allow_experimental_options,
                "allow experimental options");
  cmd->add_flag("--allow-deprecated-options", a->allow_deprecated_options,
                "allow deprecated options");
  cmd->add_flag("--reuse-bricks", a->reuse_bricks, "accept bricks that belonged to a volume");
  cmd->add_flag("--allow-root-dir", a->allow_root_dir, "accept bricks on the root filesystem");
  cmd->add_flag("--allow-mount-as-brick", a->allow_mount_as_brick,
                "accept a mount point itself as a brick");
  cmd->add_flag("--create-brick-dir", a->create_brick_dir, "create missing brick directories");
  cmd->callback([&ctx, rc, a] {
    StatusOr<api::VolCreateReq> req = BuildVolCreateReq(*a);
    if (!req.ok()) {
      *rc = Usage(req.status());
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      StatusOr<std::vector<api::Peer>> peers = c.ListPeers("", "", ctx.info());
      if (!peers.ok()) return ctx.Fail(peers.status());
      if (Status s = ResolveBrickPeers(*req, *peers); !s.ok()) return ctx.Fail(s);
      if (ctx.opts.verbose) std::cerr << "request: " << nlohmann::json(*req).dump() << "\n";
      StatusOr<api::Volume> v = c.CreateVolume(*req, ctx.info());
      if (!v.ok()) return ctx.Fail(v.status());
      ctx.Print(api::VolumeToJson(*v), [&] {
        std::printf("%s Volume created successfully\nVolume ID: %s\n", v->name.c_str(),
                    v->id.c_str());
      });
      return 0;
    });
  });
}

void AddStartStop(CLI::App& vol, Context& ctx, int* rc) {
  struct Args {
    std::string name;
    bool force = false;
  };
  auto start = std::make_shared<Args>();
  CLI::App* cmd = vol.add_subcommand(
      "start", "Start a volume; --force also starts missing bricks of a started volume");
  cmd->footer(Example("  glustercli volume start gv0\n  glustercli volume start gv0 --force"));
  cmd->add_option("name", start->name, "volume name")->required();
  cmd->add_flag("-f,--force", start->force, "start bricks even if the volume is started");
  cmd->callback([&ctx, rc, start] {
    *rc = ctx.WithClient([&](client::Client& c) {
      api::VolStartReq req;
      req.force_start_bricks = start->force;
      StatusOr<api::Volume> v = c.StartVolume(start->name, req, ctx.info());
      if (!v.ok()) return ctx.Fail(v.status(), start->name);
      ctx.Print(api::VolumeToJson(*v),
                [&] { std::printf("Volume %s started successfully\n", start->name.c_str()); });
      return 0;
    });
  });

  auto stop = std::make_shared<Args>();
  cmd = vol.add_subcommand("stop", "Stop a volume: its bricks stop and clients lose access");
  cmd->footer(Example("  glustercli volume stop gv0"));
  cmd->add_option("name", stop->name, "volume name")->required();
  cmd->add_flag("-f,--force", stop->force, "stop even if some bricks cannot be stopped cleanly");
  cmd->callback([&ctx, rc, stop] {
    *rc = ctx.WithClient([&](client::Client& c) {
      api::VolStopReq req;
      req.force = stop->force;
      StatusOr<api::Volume> v = c.StopVolume(stop->name, req, ctx.info());
      if (!v.ok()) return ctx.Fail(v.status(), stop->name);
      ctx.Print(api::VolumeToJson(*v),
                [&] { std::printf("Volume %s stopped successfully\n", stop->name.c_str()); });
      return 0;
    });
  });
}

void AddDelete(CLI::App& vol, Context& ctx, int* rc) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = vol.add_subcommand(
      "delete", "Delete a stopped volume; asks for confirmation unless -y/--script-mode");
  cmd->footer(
      "\nThe brick directories and the files in them are left in place; gluster's metadata\n"
      "(.glusterfs and gluster's xattrs on each brick root) is removed, so that they\n"
      "can serve a new volume.\n" +
      Example("  glustercli volume delete gv0\n  glustercli -y volume delete gv0"));
  cmd->add_option("name", *name, "volume name")->required();
  cmd->callback([&ctx, rc, name] {
    if (!ctx.Confirm("Deleting volume " + *name +
                     " will erase all information about it. Do you want to continue?")) {
      std::fprintf(stderr, "Volume %s not deleted\n", name->c_str());
      *rc = 1;
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      if (Status s = c.DeleteVolume(*name, ctx.info()); !s.ok()) return ctx.Fail(s, *name);
      ctx.Print(nlohmann::json::object(),
                [&] { std::printf("Volume %s deleted successfully\n", name->c_str()); });
      return 0;
    });
  });
}

void AddListInfo(CLI::App& vol, Context& ctx, int* rc) {
  struct Args {
    std::string name;
    std::string key;
    std::string value;
  };
  auto list = std::make_shared<Args>();
  CLI::App* cmd = vol.add_subcommand("list", "List the names of the volumes, one per line");
  cmd->footer(Example("  glustercli volume list\n  glustercli volume list --key owner --value qa"));
  cmd->add_option("--key", list->key, "only volumes with this metadata key");
  cmd->add_option("--value", list->value, "only volumes with a metadata value equal to this");
  cmd->callback([&ctx, rc, list] {
    *rc = ctx.WithClient([&](client::Client& c) {
      StatusOr<std::vector<api::Volume>> vols = c.ListVolumes(list->key, list->value, ctx.info());
      if (!vols.ok()) return ctx.Fail(vols.status());
      ctx.Print(VolumesJson(*vols), [&] {
        for (const api::Volume& v : *vols) std::printf("%s\n", v.name.c_str());
      });
      return 0;
    });
  });

  auto info = std::make_shared<Args>();
  cmd = vol.add_subcommand(
      "info", "Show the layout, state, bricks and options of a volume, or of every volume");
  cmd->footer(Example("  glustercli volume info gv0\n  glustercli volume info"));
  cmd->add_option("name", info->name, "volume name (default: all volumes)");
  cmd->add_option("--key", info->key, "only volumes with this metadata key");
  cmd->add_option("--value", info->value, "only volumes with a metadata value equal to this");
  cmd->callback([&ctx, rc, info] {
    *rc = ctx.WithClient([&](client::Client& c) {
      if (!info->name.empty()) {
        StatusOr<api::Volume> v = c.GetVolume(info->name, ctx.info());
        if (!v.ok()) return ctx.Fail(v.status(), info->name);
        ctx.Print(api::VolumeToJson(*v),
                  [&] { std::printf("\n%s", FormatVolumeInfo(*v).c_str()); });
        return 0;
      }
      StatusOr<std::vector<api::Volume>> vols = c.ListVolumes(info->key, info->value, ctx.info());
      if (!vols.ok()) return ctx.Fail(vols.status());
      ctx.Print(VolumesJson(*vols), [&] {
        if (vols->empty()) std::printf("No volumes found\n");
        for (const api::Volume& v : *vols) std::printf("\n%s", FormatVolumeInfo(v).c_str());
      });
      return 0;
    });
  });
}

void AddStatus(CLI::App& vol, Context& ctx, int* rc) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = vol.add_subcommand(
      "status",
      "Show the bricks of a volume, or of every volume: id, host, path, online, port, pid");
  cmd->footer(
      "\nWith --json: the volume's brick list, or [{\"volume\": name, \"bricks\": [...]}] for "
      "every volume.\n" +
      Example("  glustercli volume status gv0\n  glustercli volume status"));
  cmd->add_option("name", *name, "volume name (default: all volumes)");
  cmd->callback([&ctx, rc, name] {
    *rc = ctx.WithClient([&](client::Client& c) {
      std::vector<std::string> names;
      if (!name->empty()) {
        names.push_back(*name);
      } else {
        StatusOr<std::vector<api::Volume>> vols = c.ListVolumes("", "", ctx.info());
        if (!vols.ok()) return ctx.Fail(vols.status());
        for (const api::Volume& v : *vols) names.push_back(v.name);
      }
      std::vector<std::vector<api::BrickStatus>> bricks;
      for (const std::string& n : names) {
        StatusOr<std::vector<api::BrickStatus>> b = c.VolumeBricks(n, ctx.info());
        if (!b.ok()) return ctx.Fail(b.status(), n);
        bricks.push_back(std::move(*b));
      }
      nlohmann::json j;
      if (!name->empty()) {
        j = bricks.front();
      } else {
        j = nlohmann::json::array();
        for (size_t i = 0; i < names.size(); ++i) {
          j.push_back({{"volume", names[i]}, {"bricks", bricks[i]}});
        }
      }
      ctx.Print(j, [&] {
        if (names.empty()) std::printf("No volumes found\n");
        for (size_t i = 0; i < names.size(); ++i) {
          if (i > 0) std::printf("\n");
          std::printf("Volume : %s\n", names[i].c_str());
          PrintTable({"BRICK ID", "HOST", "PATH", "ONLINE", "PORT", "PID"},
                     BrickStatusRows(bricks[i]));
        }
      });
      return 0;
    });
  });
}

void AddOptions(CLI::App& vol, Context& ctx, int* rc) {
  struct GetArgs {
    std::string name;
    std::string option;
    bool modified = false;
    bool basic = false;
    bool advanced = false;
  };
  auto get = std::make_shared<GetArgs>();
  CLI::App* cmd = vol.add_subcommand(
      "get", "Show a volume option, or every option with 'all': value, default, modified");
  cmd->footer(
      Example("  glustercli volume get gv0 cluster.eager-lock\n  glustercli volume get gv0 all "
              "--modified"));
  cmd->add_option("name", get->name, "volume name")->required();
  cmd->add_option("option", get->option, "option name, or 'all'")->required();
  cmd->add_flag("--modified", get->modified, "only options set on this volume (with 'all')");
  cmd->add_flag("--basic", get->basic, "only basic options (with 'all')");
  cmd->add_flag("--advanced", get->advanced, "only advanced options (with 'all')");
  cmd->callback([&ctx, rc, get] {
    *rc = ctx.WithClient([&](client::Client& c) {
      std::vector<api::OptionInfo> options;
      if (get->option == "all") {
        StatusOr<std::vector<api::OptionInfo>> all = c.GetOptions(get->name, ctx.info());
        if (!all.ok()) return ctx.Fail(all.status(), get->name);
        options = FilterOptions(std::move(*all), get->modified, get->basic, get->advanced);
      } else {
        StatusOr<api::OptionInfo> one = c.GetOption(get->name, get->option, ctx.info());
        if (!one.ok()) return ctx.Fail(one.status(), get->name);
        options.push_back(std::move(*one));
      }
      nlohmann::json j = options;
      if (get->option != "all") j = options.front();
      ctx.Print(j, [&] {
        std::vector<std::vector<std::string>> rows;
        for (const api::OptionInfo& o : options) {
          rows.push_back({o.name, o.value, o.default_value, o.modified ? "yes" : "no"});
        }
        PrintTable({"NAME", "VALUE", "DEFAULT", "MODIFIED"}, rows);
      });
      return 0;
    });
  });

  struct SetArgs {
    std::string name;
    std::vector<std::string> words;
    bool advanced = false;
    bool experimental = false;
    bool deprecated = false;
  };
  auto set = std::make_shared<SetArgs>();
  cmd =
      vol.add_subcommand("set", "Set one or more volume options, given as <option> <value> pairs");
  cmd->footer(
      Example("  glustercli volume set gv0 performance.quick-read off\n"
              "  glustercli volume set gv0 cluster.eager-lock on performance.io-cache off"));
  cmd->add_option("name", set->name, "volume name")->required();
  cmd->add_option("pairs", set->words, "<option> <value> [<option> <value>...]")->required();
  cmd->add_flag("--advanced", set->advanced, "allow advanced options");
  cmd->add_flag("--experimental", set->experimental, "allow experimental options");
  cmd->add_flag("--deprecated", set->deprecated, "allow deprecated options");
  cmd->callback([&ctx, rc, set] {
    StatusOr<api::VolOptionReq> req =
        BuildVolOptionReq(set->words, set->advanced, set->experimental, set->deprecated);
    if (!req.ok()) {
      *rc = Usage(req.status());
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      StatusOr<api::Volume> v = c.SetOptions(set->name, *req, ctx.info());
      if (!v.ok()) return ctx.Fail(v.status(), set->name);
      ctx.Print(api::VolumeToJson(*v), [&] {
        std::printf("Options set successfully for %s volume\n", set->name.c_str());
      });
      return 0;
    });
  });

  struct ResetArgs {
    std::string name;
    std::vector<std::string> options;
    bool force = false;
    bool all = false;
  };
  auto reset = std::make_shared<ResetArgs>();
  cmd = vol.add_subcommand("reset",
                           "Reset volume options to their defaults: the named ones, or all with "
                           "--all");
  cmd->footer(
      Example("  glustercli volume reset gv0 performance.quick-read\n"
              "  glustercli volume reset gv0 --all"));
  cmd->add_option("name", reset->name, "volume name")->required();
  cmd->add_option("options", reset->options, "options to reset");
  cmd->add_flag("-f,--force", reset->force, "reset options that are normally protected");
  cmd->add_flag("--all", reset->all, "reset every option of the volume");
  cmd->callback([&ctx, rc, reset] {
    StatusOr<api::VolOptionResetReq> req =
        BuildVolOptionResetReq(reset->options, reset->force, reset->all);
    if (!req.ok()) {
      *rc = Usage(req.status());
      return;
    }
    *rc = ctx.WithClient([&](client::Client& c) {
      StatusOr<api::Volume> v = c.ResetOptions(reset->name, *req, ctx.info());
      if (!v.ok()) return ctx.Fail(v.status(), reset->name);
      ctx.Print(api::VolumeToJson(*v), [&] {
        std::printf("Volume options reset successfully for %s volume\n", reset->name.c_str());
      });
      return 0;
    });
  });
}

void AddHeal(CLI::App& vol, Context& ctx, int* rc) {
  CLI::App* heal = vol.add_subcommand("heal", "Self-heal of replicate and disperse volumes");
  heal->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = heal->add_subcommand(
      "info", "Show, per brick, the entries that need healing and the brick's connection");
  cmd->footer(Example("  glustercli volume heal info gv0"));
  cmd->add_option("name", *name, "volume name")->required();
  cmd->callback([&ctx, rc, name] {
    *rc = ctx.WithClient([&](client::Client& c) {
      StatusOr<std::vector<api::BrickHealInfo>> h = c.HealInfo(*name, ctx.info());
      if (!h.ok()) return ctx.Fail(h.status(), *name);
      ctx.Print(*h, [&] { std::printf("%s", FormatHealInfo(*h).c_str()); });
      return 0;
    });
  });
}

}  // namespace

void AddVolumeCommands(CLI::App& app, Context& ctx, int* rc) {
  CLI::App* vol = app.add_subcommand("volume", "Manage volumes");
  vol->require_subcommand(1);
  AddCreate(*vol, ctx, rc);
  AddStartStop(*vol, ctx, rc);
  AddDelete(*vol, ctx, rc);
  AddListInfo(*vol, ctx, rc);
  AddStatus(*vol, ctx, rc);
  AddOptions(*vol, ctx, rc);
  AddHeal(*vol, ctx, rc);
}

}  // namespace gd2::cli
