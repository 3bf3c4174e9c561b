-- wrk script for bench/ingest.sh: POSTs distinct Bulutfon call_init events to /webhook.
-- Every request carries a new uuid (thread id + per-thread counter + a random run tag), so
-- the receiver stores each one instead of answering "duplicate".
-- KANCA_BENCH_AUTH holds the ready-made "Basic ..." header value.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  run = math.random(1, 2147483646)
  counter = 0
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = os.getenv("KANCA_BENCH_AUTH") or "",
  }
  base_ts = 1700000000000000
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"event_type":"call_init","domain_id":1234,"account_id":5678,"caller":9053%08d,' ..
    '"callee":908508850000,"uuid":"bench-%d-%d-%d-%d","direction":"IN","timestamp":%d}',
    (id * 7919 + counter) % 100000000, run, id, counter, math.random(0, 999999),
    base_ts + counter * 1000 + id)
  return wrk.format("POST", "/webhook", headers, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, non2xx, errors, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
