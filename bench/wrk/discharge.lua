-- wrk: POST the discharge report (tests/mappings/discharge/input.json, UTSKRIVNINGSRAPPORT) to
-- /fhir/$process-message, a distinct synthetic patient per request (test-data fødselsnummer: month
-- + 80, valid check digits, each once; see next_fnr), with distinct
-- urn:uuid fullUrls, Bundle id and MessageHeader id, as distinct real messages have them.
-- Usage: wrk -s bench/wrk/discharge.lua ... -- INPUT_JSON TOKEN

local template, token
local counter = 0

-- Thread numbering and the fødselsnummer walk, from beside this script.
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
local next_fnr = nil

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
  next_fnr = next_fnr or common.fnr_sequence((thread_id or 0) * 3000000)
  local n = (thread_id or 0) * 1000000 + counter
  local body = template:gsub("{{FNR}}", next_fnr()):gsub("{{U}}", string.format("%08x", n))
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
