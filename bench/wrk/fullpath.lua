-- wrk script for bench/proxy.sh's "edgefull" target: the full metered path.
-- POST /v1/images/vectorize (4 tokens) with API keys of many users, rotating per request, so the
-- edge authenticates (SHA-256 + LMDB lookup), prices, holds and charges on every request.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/pace.lua")
wrk.method = "POST"
wrk.path   = "/v1/images/vectorize"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"image_url":"https://example.invalid/source.png","response_format":"url",' ..
           '"style":"vector_illustration","metadata":{"bench":"recraftor-edge proxy",' ..
           '"pad":"0123456789abcdef0123456789abcdef0123456789a"}}'

local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS_FILE")) do
  if line ~= "" then keys[#keys + 1] = line end
end
local requests = {}
local next_index = 0

function init(args)
  for i, key in ipairs(keys) do
    wrk.headers["Authorization"] = "Bearer " .. key
    requests[i] = wrk.format()
  end
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
