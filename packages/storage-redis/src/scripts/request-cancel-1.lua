--[[
  Requests cancellation: a pending or suspended flow is cancelled at once
  (waking its parent if it waits on it); a running one is flagged and stops
  at its next durable operation; a terminal one is left unchanged.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  encoded reason (stored as the flow's error)
    ARGV[4]  now (ms)

  Output:
    the flow hash as a flat field/value list, after the change

  Errors: ERGON_FLOW_NOT_FOUND
  Events: finished (cancelled at once); ready for a woken parent;
          cancel-requested (a running flow flagged).
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/finish"

local fkey, id, reason, now = KEYS[1], ARGV[2], ARGV[3], ARGV[4]
local status = redis.call('HGET', fkey, 'status')
if not status then
  error({ err = 'ERGON_FLOW_NOT_FOUND ' .. id })
end
if status == 'pending' or status == 'suspended' then
  finish(fkey, id, 'cancelled', nil, reason, now)
elseif status == 'running' then
  redis.call('HSET', fkey, 'cancel', '1', 'error', reason, 'updatedAt', now)
  publishCancelRequested(id)
end
return redis.call('HGETALL', fkey)
