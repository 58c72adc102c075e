// glustercli: the command line client of glusterd2's ReST API.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"

int main(int argc, char** argv) {
  gd2::cli::Context ctx;
  int rc = 0;
  CLI::App app("glustercli: manage a GlusterFS cluster through glusterd2's ReST API", "glustercli");
  app.require_subcommand(1);
  auto& o = ctx.opts;
  app.add_option("--endpoints", o.endpoints, "glusterd2 ReST endpoint(s), comma-separated")
      ->envname("GD2_ENDPOINTS")
      ->capture_default_str();
  app.add_option("--user", o.user, "JWT issuer")->capture_default_str();
  app.add_option("--secret", o.secret, "ReST auth secret");
  app.add_option("--secret-file", o.secret_file,
                 "file with the ReST auth secret (default /var/lib/glusterd2/auth; env "
                 "GD2_AUTH_SECRET)");
  app.add_option("--cacert", o.cacert, "CA certificate to verify an https endpoint");
  app.add_flag("--insecure", o.insecure, "do not verify the https endpoint's certificate");
  app.add_option("--timeout", o.timeout_seconds, "request timeout in seconds")->capture_default_str();
  app.add_flag("-y,--script-mode", o.script_mode, "never ask for confirmation");
  app.add_flag("--json", o.json, "print the API's JSON instead of tables");
  app.add_flag("-v,--verbose", o.verbose, "verbose output");
  app.set_version_flag("--version", std::string("glustercli ") + GD2_VERSION);

  gd2::cli::AddPeerCommands(app, ctx, &rc);
  gd2::cli::AddServiceCommands(app, ctx, &rc);
  gd2::cli::AddVolumeCommands(app, ctx, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "Error: %s\nRun with --help for usage.\n", e.what());
    return 2;
  }
  return rc;
}
