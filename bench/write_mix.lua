-- wrk script for bench/run.sh: a write mix on a draft plan the benchmark created itself.
-- Each connection takes turns: create a goal, patch a requirement (If-Match: *), add a
-- measurement. Every response must be 2xx; done() prints how many were and were not, by status.
--
-- Environment: BENCH_TOKEN (admin bearer token), BENCH_DRAFT_PLAN (plan id),
-- BENCH_REQUIREMENT (requirement id of that plan).

local token = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")
local plan = os.getenv("BENCH_DRAFT_PLAN") or error("BENCH_DRAFT_PLAN is not set")
local requirement = os.getenv("BENCH_REQUIREMENT") or error("BENCH_REQUIREMENT is not set")

local threads = {}

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  ok = 0
  non2xx = 0
  statuses = {}
end

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

function response(status, hdrs, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad, by_status = 0, 0, {}
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_bad = total_bad + t:get("non2xx")
    local s = t:get("statuses")
    if s then
      for code, count in pairs(s) do by_status[code] = (by_status[code] or 0) + count end
    end
  end
  io.write(string.format("WRITE_2XX %d\n", total_ok))
  io.write(string.format("WRITE_NON2XX %d\n", total_bad))
  for code, count in pairs(by_status) do io.write(string.format("WRITE_STATUS %d %d\n", code, count)) end
end
