-- Shared by bench/proxy.sh's wrk scripts: with BENCH_RATE set (total requests per second offered over
-- BENCH_CONNECTIONS connections), each connection waits a jittered pause before each request, so the
-- load stays below saturation and the latency columns show what each hop adds rather than queueing.
local rate = tonumber(os.getenv("BENCH_RATE") or "")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "64")
if rate and rate > 0 then
  local mean_ms = connections * 1000 / rate
  math.randomseed(os.time())
  function delay()
    return mean_ms * (0.5 + math.random())
  end
end
