-- POST /v1/me/app-passwords as many users in turn (one bearer token per line of BENCH_TOKENS, each a
-- user with MFA, of a tenant that allows app passwords), each request a new name, so that neither the
-- per-user limit (R3) nor unique names (R6) refuse anything. BENCH_RATE paces it (see common.lua).
-- The id of every app password created (201) goes to BENCH_IDS_FILE-<thread>, one per line, so the
-- bench can check that each acknowledged creation is in PostgreSQL and on Kafka.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

bench_counters = { "responses", "created", "refused" }
responses, created, refused = 0, 0, 0

local tokens = {}
local count = 0
local sent = 0
local label
local ids

function init(_args)
  for line in io.lines(required_env("BENCH_TOKENS")) do
    if line ~= "" then
      count = count + 1
      tokens[count] = "Bearer " .. line
    end
  end
  label = required_env("BENCH_LABEL") .. "-" .. tostring(thread_index or 0)
  ids = assert(io.open(required_env("BENCH_IDS_FILE") .. "-" .. tostring(thread_index or 0), "w"))
  ids:setvbuf("line")
end

function request()
  sent = sent + 1
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = tokens[(sent - 1) % count + 1] }
  local body = string.format('{"name":"bench %s-%d"}', label, sent)
  return wrk.format("POST", "/v1/me/app-passwords", headers, body)
end

function response(status, _headers, body)
  responses = responses + 1
  local id = status == 201 and body:find('"password":"lk', 1, true) and body:match('"appPasswordId":"([0-9a-f-]+)"')
  if id then
    created = created + 1
    ids:write(id, "\n")
  else
    refused = refused + 1
    if refused <= 3 then
      io.stderr:write("refused " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
end
