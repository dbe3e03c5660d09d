-- Shared by the wrk scripts: numbering wrk's threads, and distinct synthetic fødselsnumre.
local M = {}

-- wrk's setup(thread): gives each thread a global thread_id (0, 1, ...). thread:set() writes the
-- thread's globals, which a `local thread_id` in a script would shadow: every thread would then
-- post the same patients and ids, which intake answers as replays without storing them again.
local next_id = 0
function M.setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

-- Test-data convention: month + 80, valid mod-11 check digits. Each call of a sequence returns the
-- next valid candidate after its cursor, each once: the same walk as testing::FnrSequence
-- (tests/support/norwegian.hpp). Taking "the next valid one" for each n instead would give
-- neighbouring requests the same patient.

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

-- A walk starting at candidate `start`: 13.4 million candidates in all, so threads given starts
-- 3 million apart never meet.
function M.fnr_sequence(start)
  local cursor = start
  return function()
    while true do
      local n = cursor
      cursor = cursor + 1
      local nine = string.format("%02d%02d%02d%03d", n % 28 + 1, math.floor(n / 28) % 12 + 1 + 80,
                                 math.floor(n / 336) % 100, 100 + math.floor(n / 33600) % 400)
      local check = check_digits(nine)
      if check then return nine .. check end
    end
  end
end

return M
