--[[
  Stores the latest progress of a running flow held under this token, on its
  hash, replacing the previous value. Not history: no position is written.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  encoded progress
    ARGV[5]  now (ms)

  Output:
    1 when cancellation was requested, else 0

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
  Events: progress.
]]
--- @include "includes/keys"
--- @include "includes/fence"
--- @include "includes/events"

local fkey, id = KEYS[1], ARGV[2]
local cancel = fence(fkey, id, ARGV[3])
redis.call('HSET', fkey, 'progress', ARGV[4], 'progressAt', ARGV[5], 'updatedAt', ARGV[5])
publishProgress(id)
if cancel then
  return 1
end
return 0
