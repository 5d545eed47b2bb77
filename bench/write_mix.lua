-- wrk script for bench/run.sh: a write mix on a draft plan the benchmark created itself.
-- Each connection takes turns: create a goal, patch a requirement (If-Match: *), add a
-- measurement. Every response must be 2xx; tally.lua counts those that were and were not.
--
-- Environment: BENCH_TOKEN (admin bearer token), BENCH_DRAFT_PLAN (plan id),
-- BENCH_REQUIREMENT (requirement id of that plan).

local token = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")
local plan = os.getenv("BENCH_DRAFT_PLAN") or error("BENCH_DRAFT_PLAN is not set")
local requirement = os.getenv("BENCH_REQUIREMENT") or error("BENCH_REQUIREMENT is not set")

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")

local function headers(content_type)
  return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = content_type }
end

function request()
  n = n + 1
  local k = n % 3
  if k == 1 then
    return wrk.format("POST", "/api/v1/plans/" .. plan .. "/goals", headers("application/json"),
      '{"title":"Bench","kind":"local"}')
  elseif k == 2 then
    local h = headers("application/merge-patch+json")
    h["If-Match"] = "*"
    return wrk.format("PATCH", "/api/v1/requirements/" .. requirement, h,
      string.format('{"statement":"Bench %d-%d"}', thread_no, n))
  else
    return wrk.format("POST", "/api/v1/requirements/" .. requirement .. "/measurements",
      headers("application/json"), '{"period_end":"2019-06-30","value":5}')
  end
end
