--[[
  Suspends a running flow on its waits and releases the lease, unless a wait
  has resolved already (a timer due, a waited signal buffered, a waited child
  terminal): then nothing changes and the answer is "ready". If cancellation
  was requested the flow is cancelled instead.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  signal index of the flow

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy answers the first reply)
    ARGV[3]  flow id
    ARGV[4]  fencing token
    ARGV[5]  now (ms)
    ARGV[6]  waits JSON
    ARGV[7]  earliest timer (optional): the new runAt
    ARGV[8]  "1" when a timer is due at now already, else "0"
    ARGV[9]  number of waited signal names, n
    ARGV[10 .. 9+n]     waited signal names
    ARGV[10+n .. #ARGV] waited child flow ids

  Output:
    "suspended" | "ready" | "cancelled"

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
  Events: ready with "at" (suspended on a timer); finished (cancelled).
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/fence"
--- @include "includes/replay"
--- @include "includes/finish"

local fkey, rid, id, token, now = KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local previous = replayed(fkey, rid)
if previous then
  return previous
end
if fence(fkey, id, token) then
  finish(fkey, id, 'cancelled', nil, nil, now)
  remember(fkey, rid, 'cancelled')
  return 'cancelled'
end

if ARGV[8] == '1' then
  return 'ready'
end
local nNames = tonumber(ARGV[9])
for i = 10, 9 + nNames do
  local prefix = signalPrefix(ARGV[i])
  if redis.call('ZRANGEBYLEX', KEYS[2], '[' .. prefix, '[' .. prefix .. '\255', 'LIMIT', 0, 1)[1] then
    return 'ready'
  end
end
for i = 10 + nNames, #ARGV do
  if isTerminal(redis.call('HGET', flowKey(ARGV[i]), 'status')) then
    return 'ready'
  end
end

redis.call('HSET', fkey, 'status', 'suspended', 'waits', ARGV[6], 'updatedAt', now)
clearOwner(fkey, id)
local runAt = opt(ARGV[7])
if runAt then
  redis.call('HSET', fkey, 'runAt', runAt)
else
  redis.call('HDEL', fkey, 'runAt')
end
-- The run made progress: no longer abandoned.
redis.call('HDEL', fkey, 'abandons', 'lastError')
reindex(fkey, id)
if runAt then
  publishReady(redis.call('HGET', fkey, 'queue'), runAt)
end
remember(fkey, rid, 'suspended')
return 'suspended'
