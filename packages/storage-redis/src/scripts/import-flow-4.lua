--[[
  Imports a flow with its history and buffered signals (first write wins by id):
  nothing is written when the flow hash exists.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  history hash (position → record JSON)
    KEYS[3]  signal hash (seq16 → signal JSON)
    KEYS[4]  signal index (lexicographic: "<#name>:<name>:<seq16>")

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy of the importing request still answers created = 1)
    ARGV[3]  flow id
    ARGV[4]  the flow hash's fields: a JSON object of strings
    ARGV[5]  history: a JSON array of [position, record JSON]
    ARGV[6]  signals, oldest first: a JSON array of [name, payload, sentAt]
    ARGV[7]  now (ms)

  Output:
    { created: 0 | 1, flow hash as a flat field/value list }

  Events: ready (with "at" when runAt is after now), for a pending flow or one suspended with a runAt.
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/events"

local fkey, rid, id, now = KEYS[1], ARGV[2], ARGV[3], ARGV[7]

if redis.call('EXISTS', fkey) == 1 then
  local created = 0
  if redis.call('HGET', fkey, 'crid') == rid then
    created = 1
  end
  return { created, redis.call('HGETALL', fkey) }
end

local fields = cjson.decode(ARGV[4])
local flat = { 'crid', rid }
for name, value in pairs(fields) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('HSET', fkey, unpack(flat))

for _, entry in ipairs(cjson.decode(ARGV[5])) do
  redis.call('HSET', KEYS[2], entry[1], entry[2])
end

local seq = 0
for _, signal in ipairs(cjson.decode(ARGV[6])) do
  seq = seq + 1
  local seq16 = string.format('%016d', seq)
  redis.call('HSET', KEYS[3], seq16,
    '{"seq":' .. seq .. ',"name":' .. cjson.encode(signal[1]) .. ',"payload":' .. cjson.encode(signal[2]) ..
    ',"sentAt":' .. signal[3] .. '}')
  redis.call('ZADD', KEYS[4], 0, signalPrefix(signal[1]) .. seq16)
end
if seq > 0 then
  redis.call('HSET', fkey, 'sigseq', seq)
end

redis.call('ZADD', CREATED_KEY, 0, orderPart(fields.createdAt) .. id)
reindex(fkey, id)
local status = fields.status
if isTerminal(status) and fields.finishedAt then
  redis.call('ZADD', FINISHED_KEY, fields.finishedAt, id)
end
local runAt = fields.runAt
if (status == 'pending' or status == 'suspended') and runAt then
  local at = nil
  if tonumber(runAt) > tonumber(now) then
    at = runAt
  end
  publishReady(fields.queue, at, fkey, id)
end
return { 1, redis.call('HGETALL', fkey) }
