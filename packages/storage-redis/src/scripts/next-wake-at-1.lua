--[[
  The earliest time a flow of these queues and types becomes claimable: the
  smallest due score (runAt or lease expiry), or the runAt of a flow already
  promoted to a ready set (claimable now). Read-only.

  Input:
    KEYS[1]  the store's created index, for routing only (see claim-1.lua);
             the (queue, type) index keys are derived from ARGV[1]

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  number of queues, n
    ARGV[3 .. 2+n]     queues
    ARGV[3+n .. #ARGV] types

  Output:
    the time as a decimal string, or nil when nothing becomes claimable by time
]]
--- @include "includes/keys"

local nQueues = tonumber(ARGV[2])
local best, bestText = nil, nil
local function consider(text)
  local value = tonumber(text)
  if value and (best == nil or value < best) then
    best, bestText = value, text
  end
end
for q = 3, 2 + nQueues do
  for t = 3 + nQueues, #ARGV do
    local due = dueFirst(dueKey(ARGV[q], ARGV[t]))
    if due[2] then
      consider(due[2])
    end
    local ready = redis.call('ZRANGE', readyKey(ARGV[q], ARGV[t]), 0, 0)[1]
    if ready then
      consider(tostring(tonumber(string.sub(ready, 1, 16))))
    end
  end
end
return bestText
