-- POST /v1/sign-ins/verify with credentials from BENCH_CREDENTIALS (lines: username TAB password TAB ip,
-- grouped by user, BENCH_PER_USER lines each). Used the same way against the API and the baseline.
--   BENCH_MODE=random      a random user and one of their passwords per request (the measurement)
--   BENCH_MODE=sequential  every user once, in order, then stop (first sign-in of each user)
--   BENCH_SAMPLE_EVERY=n   check every n-th response body for "allowed":true (sequential: every one)
--   BENCH_RATE=r           open loop at r requests/s (see common.lua); unset: closed loop
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

bench_counters = { "responses", "non_200", "checked", "allowed", "not_allowed" }
responses, non_200, checked, allowed, not_allowed = 0, 0, 0, 0, 0

local creds = {}
local count = 0
local per_user, mode, sample_every, limit
local next_user = 0
local headers

function init(_args)
  per_user = tonumber(required_env("BENCH_PER_USER"))
  mode = required_env("BENCH_MODE")
  sample_every = tonumber(os.getenv("BENCH_SAMPLE_EVERY") or "50")
  for line in io.lines(required_env("BENCH_CREDENTIALS")) do
    if line:sub(1, 1) ~= "#" then
      local username, password, ip = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)")
      count = count + 1
      creds[count] = string.format(
        '{"username":"%s","password":"%s","protocol":"imap","clientIp":"%s"}', username, password, ip)
    end
  end
  local users = math.floor(count / per_user)
  limit = tonumber(os.getenv("BENCH_LIMIT") or tostring(users))
  headers = { ["Content-Type"] = "application/json" }
  local token = os.getenv("BENCH_TOKEN")
  if token ~= nil and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  math.randomseed(os.time() + 7919 * (thread_index or 0))
end

function request()
  local index
  if mode == "sequential" then
    -- Each user once, with one of their passwords (user u uses password u mod per_user).
    local user = next_user % math.floor(count / per_user)
    next_user = next_user + 1
    index = user * per_user + (user % per_user) + 1
  else
    index = math.random(count)
  end
  return wrk.format("POST", "/v1/sign-ins/verify", headers, creds[index])
end

function response(status, _headers, body)
  responses = responses + 1
  if status ~= 200 then
    non_200 = non_200 + 1
  end
  if mode == "sequential" or responses % sample_every == 0 then
    checked = checked + 1
    if status == 200 and body:find('"allowed":true', 1, true) then
      allowed = allowed + 1
    else
      not_allowed = not_allowed + 1
    end
  end
  if mode == "sequential" and responses == limit then
    -- wrk waits out -d even when its threads stop; this line asks bench/lib/wrk.ts for a SIGINT.
    io.write("BENCH_LIMIT_REACHED\n")
    io.flush()
    wrk.thread:stop()
  end
end
