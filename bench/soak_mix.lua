-- wrk script for bench/soak.sh: reads and writes mixed as a busy municipality would, on a draft
-- plan the soak created itself. Of every ten requests: four read an adopted version document, one
-- the plan list, two the draft plan's follow-up report (whose measurements keep growing), and
-- three write (a measurement for a new period, a requirement PATCH and a goal PATCH, both with
-- If-Match: *). Measurements accumulate as in a real year; the plan keeps a real plan's size.
-- tally.lua counts the responses that were and were not 2xx.
--
-- Environment: BENCH_TOKEN, BENCH_DRAFT_PLAN, BENCH_GOAL, BENCH_REQUIREMENT, BENCH_VERSION_PATH.

local token = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")
local plan = os.getenv("BENCH_DRAFT_PLAN") or error("BENCH_DRAFT_PLAN is not set")
local goal = os.getenv("BENCH_GOAL") or error("BENCH_GOAL is not set")
local requirement = os.getenv("BENCH_REQUIREMENT") or error("BENCH_REQUIREMENT is not set")
local version_path = os.getenv("BENCH_VERSION_PATH") or error("BENCH_VERSION_PATH is not set")
local follow_up_path = "/api/v1/plans/" .. plan .. "/follow-up?as_of=2030-06-30"

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")

local function headers(content_type)
  local h = { ["Authorization"] = "Bearer " .. token }
  if content_type then h["Content-Type"] = content_type end
  return h
end

-- A period end in 2019-2030 (day 1-28 of a month), so the series grows in every direction.
local function period_end()
  return string.format("%04d-%02d-%02d", math.random(2019, 2030), math.random(1, 12), math.random(1, 28))
end

function request()
  n = n + 1
  local k = n % 10
  if k <= 3 then
    return wrk.format("GET", version_path, headers())
  elseif k == 4 then
    return wrk.format("GET", "/api/v1/plans", headers())
  elseif k <= 6 then
    return wrk.format("GET", follow_up_path, headers())
  elseif k == 7 then
    return wrk.format("POST", "/api/v1/requirements/" .. requirement .. "/measurements",
      headers("application/json"), string.format('{"period_end":"%s","value":%d}', period_end(), math.random(0, 100)))
  elseif k == 8 then
    local h = headers("application/merge-patch+json")
    h["If-Match"] = "*"
    return wrk.format("PATCH", "/api/v1/requirements/" .. requirement, h,
      string.format('{"statement":"Soak %d-%d"}', thread_no, n))
  else
    local h = headers("application/merge-patch+json")
    h["If-Match"] = "*"
    return wrk.format("PATCH", "/api/v1/goals/" .. goal, h, string.format('{"title":"Soak %d-%d"}', thread_no, n))
  end
end
