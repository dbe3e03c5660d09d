-- wrk: POST the discharge report (tests/mappings/discharge/input.json, UTSKRIVNINGSRAPPORT) to
-- /fhir/$process-message, a distinct synthetic patient per request (test-data fødselsnummer: month
-- + 80, valid check digits; the same sequence as bench/mapping/bench_mapping.cpp), with distinct
-- urn:uuid fullUrls, Bundle id and MessageHeader id, as distinct real messages have them.
-- Usage: wrk -s bench/wrk/discharge.lua ... -- INPUT_JSON TOKEN

local template, token
local counter = 0
local next_id = 0

-- thread_id is a global: thread:set() writes the thread's globals, which a `local thread_id` at
-- the top of the script would shadow (every thread would then post the same patients, and the
-- same MessageHeader ids, which intake answers as replays without storing them again).
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local function check_digits(nine)
  local w1 = {3, 7, 6, 1, 8, 9, 4, 5, 2}
  local w2 = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
  local d = {}
  for i = 1, 9 do d[i] = tonumber(nine:sub(i, i)) end
  local s = 0
  for i = 1, 9 do s = s + d[i] * w1[i] end
  local k1 = 11 - s % 11
  if k1 == 11 then k1 = 0 end
  if k1 == 10 then return nil end
  s = k1 * w2[10]
  for i = 1, 9 do s = s + d[i] * w2[i] end
  local k2 = 11 - s % 11
  if k2 == 11 then k2 = 0 end
  if k2 == 10 then return nil end
  return tostring(k1) .. tostring(k2)
end

local function synthetic_fnr(n)
  while true do
    local day = n % 28 + 1
    local month = math.floor(n / 28) % 12 + 1
    local year = math.floor(n / 336) % 100
    local individual = 100 + math.floor(n / 33600) % 400
    local nine = string.format("%02d%02d%02d%03d", day, month + 80, year, individual)
    local check = check_digits(nine)
    if check then return nine .. check end
    n = n + 1
  end
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  template = f:read("*a")
  f:close()
  token = args[2]
  -- Placeholders for what varies; the counts are the template's (checked, so a changed test file
  -- fails loudly instead of posting the same patient every time).
  local n
  template, n = template:gsub("12834410034", "{{FNR}}")
  assert(n >= 1, "no patient identifier in the template")
  template, n = template:gsub("urn:uuid:0b7d5c1e%-", "urn:uuid:{{U}}-")
  assert(n >= 1, "no urn:uuid fullUrls in the template")
  template = template:gsub("5e2f9a0c%-8d4b%-4f61%-a3c7%-1b0e6d2f7a01", "5e2f9a0c-8d4b-4f61-a3c7-{{H}}")
  template = template:gsub("utskrivningsrapport%-kari%-1", "utskrivningsrapport-{{N}}")
  wrk.method = "POST"
  wrk.path = "/fhir/$process-message"
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local n = (thread_id or 0) * 1000000 + counter
  local body = template:gsub("{{FNR}}", synthetic_fnr(n)):gsub("{{U}}", string.format("%08x", n))
    :gsub("{{H}}", string.format("%012x", n)):gsub("{{N}}", tostring(n))
  return wrk.format(nil, nil, nil, body)
end

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end
