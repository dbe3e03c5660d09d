-- wrk: POST the discharge transaction template with a distinct synthetic patient per request
-- (test-data fødselsnummer: month + 80, valid check digits) and distinct urn:uuid fullUrls.
-- Usage: wrk -s bench/wrk/transaction.lua ... -- TEMPLATE TOKEN

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
  wrk.method = "POST"
  wrk.path = "/fhir"
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Prefer"] = "return=minimal"
end

function request()
  counter = counter + 1
  next_fnr = next_fnr or common.fnr_sequence((thread_id or 0) * 3000000)
  local n = (thread_id or 0) * 1000000 + counter
  local body = template:gsub("{{FNR}}", next_fnr()):gsub("{{N}}", string.format("%04x", n % 65536))
  return wrk.format(nil, nil, nil, body)
end

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end
