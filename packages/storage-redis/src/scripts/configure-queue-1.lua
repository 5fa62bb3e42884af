--[[
  Sets or removes a queue's limits (flow control, includes/control.lua).

  Input:
    KEYS[1]  the store's created index, for routing only (see claim-1.lua)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  queue
    ARGV[3]  limits as JSON (optional: absent removes them)

  Output:
    1

  Events: ready for the queue (its workers claim under the new limits).
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/events"
--- @include "includes/control"

local queue, limits = ARGV[2], opt(ARGV[3])
local cfg = queuePart('qcfg', queue)
if limits then
  redis.call('HSET', cfg, 'limits', limits)
else
  redis.call('HDEL', cfg, 'limits')
end
publishReady(queue, nil)
return 1
