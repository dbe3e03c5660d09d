-- wrk: POST the discharge transaction template with a distinct synthetic patient per request
-- (test-data fødselsnummer: month + 80, valid check digits) and distinct urn:uuid fullUrls.
-- Usage: wrk -s bench/wrk/transaction.lua ... -- TEMPLATE TOKEN

local template, token
local counter = 0
-- thread_id is a global: thread:set() writes the thread's globals, which a local would hide (and
-- every thread would then post the same patients, answered as replays).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
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
  wrk.method = "POST"
  wrk.path = "/fhir"
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Prefer"] = "return=minimal"
end

function request()
  counter = counter + 1
  local n = (thread_id or 0) * 1000000 + counter
  local body = template:gsub("{{FNR}}", synthetic_fnr(n)):gsub("{{N}}", string.format("%04x", n % 65536))
  return wrk.format(nil, nil, nil, body)
end

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end
