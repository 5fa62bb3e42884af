--[[
  Removes a worker from the registry and, when asked, expires the leases it
  holds (a process known to be gone).

  Input:
    KEYS[1]  workers hash
    KEYS[2]  workers' last-seen sorted set

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  worker id
    ARGV[3]  now (ms)
    ARGV[4]  "1" to expire its leases, "0" not to

  Output:
    how many leases were expired

  Events: ready, per expired lease.
]]
--- @include "includes/keys"
--- @include "includes/reap"

local worker = ARGV[2]
redis.call('HDEL', KEYS[1], worker)
-- Nothing is handed to it any more (includes/park.lua).
redis.call('HDEL', PARKED_KEY, worker)
redis.call('ZREM', KEYS[2], worker)
if ARGV[4] == '1' then
  return expireLeases(worker, ARGV[3])
end
return 0
