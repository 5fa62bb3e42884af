--[[
  Buffers a signal (FIFO per name) and wakes the flow if it is suspended
  waiting on that name.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  signal hash (seq16 → signal JSON)
    KEYS[3]  signal index (lexicographic: "<#name>:<name>:<seq16>")

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy is not buffered twice: kept for an hour in the
             flow's "sigr:" sorted set, so even after the flow moved on)
    ARGV[3]  flow id
    ARGV[4]  signal name
    ARGV[5]  encoded payload
    ARGV[6]  now (ms)

  Output:
    "1", or "w" when it woke the flow

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_FLOW_FINISHED <status>
  Events: ready, when it wakes the flow.
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/replay"
--- @include "includes/waits"
--- @include "includes/wake"

-- How long a send's request id is kept: ioredis resends a command once it reconnects, well within it.
local RESEND_WINDOW_MS = 3600000

local fkey, rid, id, name, now = KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local f = redis.call('HMGET', fkey, 'status', 'waits')
if not f[1] then
  error({ err = 'ERGON_FLOW_NOT_FOUND ' .. id })
end
local previous = replayed(fkey, rid)
if previous then
  return previous
end
-- A resent copy after the flow moved on (a worker consumed the signal, or the flow finished):
-- the first copy was buffered, so this one is not.
local ridKey = sigRidKey(id)
if redis.call('ZSCORE', ridKey, rid) then
  return '1'
end
if isTerminal(f[1]) then
  error({ err = 'ERGON_FLOW_FINISHED ' .. f[1] })
end

local seq = redis.call('HINCRBY', fkey, 'sigseq', 1)
local seq16 = string.format('%016d', seq)
redis.call('HSET', KEYS[2], seq16,
  '{"seq":' .. seq .. ',"name":' .. cjson.encode(name) .. ',"payload":' .. cjson.encode(ARGV[5]) ..
  ',"sentAt":' .. now .. '}')
redis.call('ZADD', KEYS[3], 0, signalPrefix(name) .. seq16)
local reply = '1'
if f[1] == 'suspended' and waitsOn(f[2], 'signal', 'name', name) then
  wake(fkey, id, now)
  reply = 'w'
end
remember(fkey, rid, reply)
redis.call('ZADD', ridKey, now, rid)
redis.call('ZREMRANGEBYSCORE', ridKey, '-inf', '(' .. (tonumber(now) - RESEND_WINDOW_MS))
return reply
