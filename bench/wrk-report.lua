-- wrk script: POSTs the body file given as the first argument and prints one JSON line at the end.
-- An optional second argument paces each connection: milliseconds between its requests.
local body_file = nil
local pause_ms = 0

function init(args)
  body_file = args[1]
  pause_ms = tonumber(args[2] or "0")
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

function delay()
  return pause_ms
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":%d,"non2xx":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
