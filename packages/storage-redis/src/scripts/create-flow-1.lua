--[[
  Creates a flow, or returns the existing one with that id (idempotent).

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy of the creating request still answers created = 1)
    ARGV[3]  flow id
    ARGV[4]  type
    ARGV[5]  queue
    ARGV[6]  encoded input
    ARGV[7]  priority
    ARGV[8]  runAt (ms)
    ARGV[9]  parent id (optional)
    ARGV[10] trace context (optional)
    ARGV[11] now (ms)

  Output:
    { created: 0 | 1, flow hash as a flat field/value list }

  Events: ready (with "at" when runAt is after now), when created.
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/events"

local fkey = KEYS[1]
local rid = ARGV[2]
local id = ARGV[3]

if redis.call('EXISTS', fkey) == 1 then
  local created = 0
  if redis.call('HGET', fkey, 'crid') == rid then
    created = 1
  end
  return { created, redis.call('HGETALL', fkey) }
end

local queue, runAt, now = ARGV[5], ARGV[8], ARGV[11]
redis.call('HSET', fkey,
  'id', id, 'type', ARGV[4], 'queue', queue, 'status', 'pending', 'priority', ARGV[7],
  'input', ARGV[6], 'runAt', runAt, 'token', '0', 'waits', '[]', 'cancel', '0', 'runs', '0',
  'createdAt', now, 'updatedAt', now, 'crid', rid)
local parentId = opt(ARGV[9])
if parentId then
  redis.call('HSET', fkey, 'parentId', parentId)
end
local trace = opt(ARGV[10])
if trace then
  redis.call('HSET', fkey, 'trace', trace)
end
redis.call('ZADD', CREATED_KEY, 0, orderPart(now) .. id)
reindex(fkey, id)

local at = nil
if tonumber(runAt) > tonumber(now) then
  at = runAt
end
publishReady(queue, at)
return { 1, redis.call('HGETALL', fkey) }
