-- Shared by the bench's wrk scripts (loaded with dofile). wrk runs a script once per thread, each in
-- its own Lua state; setup() collects the threads so that done() can sum their counters.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Names of the per-thread global counters that done() adds up and prints.
bench_counters = bench_counters or {}

-- Prints one line that bench/lib/wrk.ts parses: BENCH key=value ...
function done(summary, latency, _requests)
  local fields = {
    string.format("requests=%d", summary.requests),
    string.format("duration_us=%d", summary.duration),
    string.format("mean_us=%.1f", latency.mean),
    string.format("p50_us=%d", latency:percentile(50)),
    string.format("p90_us=%d", latency:percentile(90)),
    string.format("p99_us=%d", latency:percentile(99)),
    string.format("p999_us=%d", latency:percentile(99.9)),
    string.format("max_us=%d", latency.max),
    string.format("err_connect=%d", summary.errors.connect),
    string.format("err_read=%d", summary.errors.read),
    string.format("err_write=%d", summary.errors.write),
    string.format("err_status=%d", summary.errors.status),
    string.format("err_timeout=%d", summary.errors.timeout),
  }
  for _, name in ipairs(bench_counters) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
    end
    table.insert(fields, string.format("%s=%d", name, total))
  end
  io.write("BENCH " .. table.concat(fields, " ") .. "\n")
end

-- Monotonic milliseconds (LuaJIT FFI), for pacing.
local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]])
local timespec = ffi.new("bench_timespec")
function monotonic_ms()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

function required_env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

-- BENCH_RATE=r (optional): open loop, r requests/s in all over BENCH_THREADS threads, whatever the
-- answers' latency. wrk calls delay() before each request of each connection; every connection takes
-- the next free slot, and slots missed while every connection is busy are skipped (the achieved rate
-- shows it). Unset: closed loop, each connection sends as soon as its answer came.
local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate ~= nil then
  local interval_ms = 1000 * tonumber(os.getenv("BENCH_THREADS") or "1") / rate
  local next_slot = nil
  function delay()
    local now = monotonic_ms()
    if next_slot == nil or next_slot < now then
      next_slot = now
    end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    return math.floor(wait + 0.5)
  end
end
