-- wrk script for authenticated glusterd2 requests: sends the JWT in $GD2_TOKEN (made by
-- gd2_token for the method and path being benchmarked) on every request. wrk itself reports
-- answers other than 2xx/3xx ("Non-2xx or 3xx responses"), which bench/rest_bench.sh checks.
local token = os.getenv("GD2_TOKEN")
if token == nil or token == "" then
  error("GD2_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
