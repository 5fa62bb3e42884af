--[[
  Expires, in one partition, the leases of workers declared dead (the home
  partition's heartbeat-worker or remove-worker did it there): every flow they
  still run here becomes claimable at once.

  Input:
    KEYS[1]  the partition's created index, for routing only

    ARGV[1]  key base "{tag}:"
    ARGV[2]  now (ms)
    ARGV[3 .. #ARGV]  the dead workers' ids

  Output:
    { leases expired, then per expired run admitted by the home partition:
      its queue, "<id>:<token>" }

  Events: ready, per expired lease.
]]
--- @include "includes/keys"
--- @include "includes/reap"

local admitted = {}
local expired = 0
for i = 3, #ARGV do
  expired = expired + expireLeases(ARGV[i], ARGV[2], admitted)
end
table.insert(admitted, 1, expired)
return admitted
