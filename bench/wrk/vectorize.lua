-- wrk script for bench/proxy.sh: POST /v1/images/vectorize with a ~200 B JSON body.
-- Prints one machine-readable "BENCH …" line at the end (latencies in microseconds).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/pace.lua")
wrk.method = "POST"
wrk.path   = "/v1/images/vectorize"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_API_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
wrk.body = '{"image_url":"https://example.invalid/source.png","response_format":"url",' ..
           '"style":"vector_illustration","metadata":{"bench":"recraftor-edge proxy",' ..
           '"pad":"0123456789abcdef0123456789abcdef0123456789a"}}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
