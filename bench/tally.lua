-- Shared by the wrk scripts of bench/: counts responses that were and were not 2xx, by status,
-- in every thread, and done() prints the totals as WRITE_2XX / WRITE_NON2XX / WRITE_STATUS lines
-- that bench/common.sh's wrk_json reads. Load it with
--   dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")

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
  math.randomseed(os.time() + thread_no)
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
