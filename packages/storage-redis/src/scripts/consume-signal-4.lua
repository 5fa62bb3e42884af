--[[
  Pops the oldest buffered signal of a name and records it as the completed
  operation at a position (its result is the signal's payload). If a final
  record is at that position already, returns it and consumes nothing.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  history hash
    KEYS[3]  signal hash (seq16 → signal JSON)
    KEYS[4]  signal index (lexicographic: "<#name>:<name>:<seq16>")

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  position
    ARGV[5]  signal name
    ARGV[6]  record JSON without "result", "status" first (completed)

  Output:
    { 2 } when no such signal is buffered, else
    { existed: 0 | 1, the stored record JSON, cancelRequested: 0 | 1 }

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
]]
--- @include "includes/keys"
--- @include "includes/fence"
--- @include "includes/history"

local cancel = 0
if fence(KEYS[1], ARGV[2], ARGV[3]) then
  cancel = 1
end
local position = ARGV[4]
local existing = redis.call('HGET', KEYS[2], position)
if existing and not isWaiting(existing) then
  return { 1, existing, cancel }
end

local prefix = signalPrefix(ARGV[5])
local oldest = redis.call('ZRANGEBYLEX', KEYS[4], '[' .. prefix, '[' .. prefix .. '\255', 'LIMIT', 0, 1)[1]
if not oldest then
  return { 2 }
end
local seq = string.sub(oldest, #prefix + 1)
local signal = cjson.decode(redis.call('HGET', KEYS[3], seq))
local record = string.sub(ARGV[6], 1, -2) .. ',"result":' .. cjson.encode(signal.payload) .. '}'
redis.call('HDEL', KEYS[3], seq)
redis.call('ZREM', KEYS[4], oldest)
redis.call('HSET', KEYS[2], position, record)
return { 0, record, cancel }
