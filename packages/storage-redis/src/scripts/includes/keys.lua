-- Key layout. Mirror of src/internal/keys.ts: change both together.
--
-- Every key starts with P = ARGV[1] = "{tag}:", the base of the partition the
-- script runs in: "{prefix}:" with one partition, "{prefix#i…}:" with more
-- (src/internal/partitions.ts). The braces make the tag the Redis Cluster hash
-- tag, so every key of a partition lives in one slot and a script may touch
-- any of them (claims and indexes span the partition's flows). Keys of other
-- flows and of the indexes are derived here from P rather than passed in
-- KEYS, in the manner of BullMQ; the shared hash tag keeps that cluster-safe.
local P = ARGV[1]

local function flowKey(id)
  return P .. 'flow:' .. id
end

local function histKey(id)
  return P .. 'hist:' .. id
end

local function sigKey(id)
  return P .. 'sig:' .. id
end

local function sigIndexKey(id)
  return P .. 'sigx:' .. id
end

-- Request ids of the flow's recent signal sends (score: sent at), so a resent copy is
-- recognised even after the flow moved on (see send-signal).
local function sigRidKey(id)
  return P .. 'sigr:' .. id
end

-- Queue and type are length-prefixed so ("a:b", "c") and ("a", "b:c") differ. Each key is made
-- once per call (COMBO_KEYS[queue][ftype][kind]): a call's flows share a few, and a concatenation
-- costs a new string, the length going through the floating-point printer.
local COMBO_KEYS = {}
local function comboKey(kind, queue, ftype)
  local byType = COMBO_KEYS[queue]
  if not byType then
    byType = {}
    COMBO_KEYS[queue] = byType
  end
  local keys = byType[ftype]
  if not keys then
    keys = {}
    byType[ftype] = keys
  end
  local key = keys[kind]
  if not key then
    key = P .. kind .. ':' .. string.format('%d', #queue) .. ':' .. queue .. ':' .. ftype
    keys[kind] = key
  end
  return key
end

-- Flows waiting by time: pending or suspended (score runAt), running (score lease expiry).
local function dueKey(queue, ftype)
  return comboKey('due', queue, ftype)
end

-- A due set's pin: a member no flow id can be (a space), longer than Redis's
-- zset-max-listpack-value (64), at score +inf. A claim adds it with its leases (flushClaims), so
-- a due set that claims fill is a skip list from then on (Redis never turns one back): in a
-- listpack, the form of a set under 128 members (a worker's running flows), each ZADD and ZREM
-- scans and moves the whole list, ~30k instructions a claimed flow. No time reaches +inf, so a
-- read by score (-inf to now) never sees it; a read of the first member skips it (dueFirst); a
-- removal that leaves only the pin deletes the set (dueLeft).
local DUE_PIN = 'due set pin: keeps this sorted set a skip list (see includes/keys.lua) ..........'

-- After members left the due set `due`: a set left with only its pin goes, as an empty one does.
local function dueLeft(due)
  if redis.call('ZCARD', due) == 1 and redis.call('ZSCORE', due, DUE_PIN) then
    redis.call('DEL', due)
  end
end

-- The earliest member of a due set and its score ({ member, score }, empty for none), its pin aside.
local function dueFirst(due)
  local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  if first[1] == DUE_PIN then
    return {}
  end
  return first
end

-- Flows due now, in claim order: score -priority, member orderPart(runAt) .. id.
local function readyKey(queue, ftype)
  return comboKey('ready', queue, ftype)
end

-- Workers parked for (queue, type) (includes/park.lua): a set of worker ids.
local function parkKey(queue, ftype)
  return comboKey('park', queue, ftype)
end

-- Every flow, member orderPart(createdAt) .. id (lexicographic, score 0).
local CREATED_KEY = P .. 'created'
-- Terminal flows, score finishedAt, member id.
local FINISHED_KEY = P .. 'finished'
-- Parked workers (includes/park.lua): worker id -> "<slots>:<hand-off lease ms>:<until ms>".
local PARKED_KEY = P .. 'parked'
-- Pub/sub channel of store events.
local EVENTS_CHANNEL = P .. 'events'

-- A time as 16 zero-padded digits so lexicographic order is time order.
-- Whole milliseconds in [0, 2^53); values outside are clamped.
local function orderPart(ms)
  local n = math.floor(tonumber(ms) or 0)
  if n < 0 then
    n = 0
  elseif n > 9007199254740991 then
    n = 9007199254740991
  end
  -- %d, not %f: an integer format never goes through the floating-point printer.
  return string.format('%016d', n)
end

-- Members of a flow's signal index: "<#name>:<name>:<seq16>", FIFO per name.
local function signalPrefix(name)
  return #name .. ':' .. name .. ':'
end
