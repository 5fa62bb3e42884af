-- Flow control (core's queues.ts): queue limits, per-key concurrency, fair
-- order and sliding-window starts, kept by the claim scripts.
--
-- Keys, all under P like every key of the store:
--   qcfg:<#q>:<q>   hash: limits (JSON), keyed ("1" once a keyed flow was created), virtual (time)
--   qkey:<#q>:<q>   hash: concurrency key -> its last fair tag
--   qrun:<#q>:<q>   set of flows claimed in the queue; a member counts while its flow is
--                   running with an unexpired lease, and is dropped once it is not (so a
--                   dead worker's slot frees itself when its lease expires: no counter drifts)
--   qst:<#q>:<q>    starts of a rate-limited queue: score the start time
--   qrem:<#q>:<q>   (home partition of a partitioned store) runs of the queue outside it:
--                   member "<id>:<token>" of an admitted run, or "r:<request>:<i>" of an
--                   admission in progress, score: until when it counts (a lease expiry)
--   fkey:<kind>:<#key>:<key>  hash: flow (id), until (ms, dedup only)
--- @include "keys"

local FAIR_SCAN = 500

local function queuePart(kind, queue)
  return P .. kind .. ':' .. #queue .. ':' .. queue
end

-- A start's effective time: `now`, or the newest start logged if later (logged times never go back).
local function startTime(queue, now)
  local newest = redis.call('ZRANGE', queuePart('qst', queue), -1, -1, 'WITHSCORES')[2]
  return math.max(now, tonumber(newest or now))
end

local function flowKeyKey(kind, key)
  return P .. 'fkey:' .. kind .. ':' .. #key .. ':' .. key
end

-- The queue's limits (a table, or nil) and whether its claims keep the rules.
local function controlOf(queue)
  local cfg = redis.call('HMGET', queuePart('qcfg', queue), 'limits', 'keyed')
  local limits = nil
  if cfg[1] then
    limits = cjson.decode(cfg[1])
  end
  return limits, (limits ~= nil) or cfg[2] == '1'
end

-- Runs of the queue outside this partition that count now (admitted by the home partition).
local function remoteRunning(queue, now)
  local rem = queuePart('qrem', queue)
  redis.call('ZREMRANGEBYSCORE', rem, '-inf', string.format('%.0f', now))
  return redis.call('ZCARD', rem)
end

-- How many flows the queue may start now (at most `want`), and its running flows per key.
local function controlSlots(queue, limits, want, now)
  local slots = want
  local run = queuePart('qrun', queue)
  local running, keyRunning = remoteRunning(queue, now), {}
  for _, id in ipairs(redis.call('SMEMBERS', run)) do
    local f = redis.call('HMGET', flowKey(id), 'status', 'lease', 'ckey', 'queue')
    if f[1] == 'running' and tonumber(f[2] or 0) > now and f[4] == queue then
      running = running + 1
      if f[3] then
        keyRunning[f[3]] = (keyRunning[f[3]] or 0) + 1
      end
    else
      redis.call('SREM', run, id)
    end
  end
  if limits and limits['concurrency'] then
    slots = math.min(slots, limits['concurrency'] - running)
  end
  if limits and limits['rate'] then
    local st = queuePart('qst', queue)
    local from = startTime(queue, now) - limits['rate']['periodMs']
    redis.call('ZREMRANGEBYSCORE', st, '-inf', string.format('%.0f', from))
    slots = math.min(slots, limits['rate']['limit'] - redis.call('ZCARD', st))
  end
  return slots, keyRunning
end

-- True when the flow's key is at its limit; else counts it as running. `known`: the flow's
-- { ckey, clim } (false for one it lacks) when the caller read them, else they are read here
-- (an HMGET of a field the hash lacks is a scan of the whole hash).
local function keyFull(keyRunning, limits, fkey, known)
  local f = known or redis.call('HMGET', fkey, 'ckey', 'clim')
  local key = f[1]
  if not key then
    return false
  end
  local max = tonumber(f[2])
  if not max and limits then
    max = limits['keyConcurrency']
  end
  local count = keyRunning[key] or 0
  if max and count >= max then
    return true
  end
  keyRunning[key] = count + 1
  return false
end

-- Records a start of a claimed flow: running set, rate log, virtual time. `tag`: the flow's fair
-- tag (false when it has none) when the caller read it, else nil: it is read here.
local function controlStarted(queue, limits, id, fkey, now, tag)
  redis.call('SADD', queuePart('qrun', queue), id)
  if limits and limits['rate'] then
    local token = redis.call('HGET', fkey, 'token') or '0'
    local at = string.format('%.0f', startTime(queue, now))
    redis.call('ZADD', queuePart('qst', queue), at, at .. ':' .. id .. ':' .. token)
  end
  if tag == nil then
    tag = redis.call('HGET', fkey, 'tag')
  end
  tag = tonumber(tag or 0)
  local cfg = queuePart('qcfg', queue)
  if tag > tonumber(redis.call('HGET', cfg, 'virtual') or 0) then
    redis.call('HSET', cfg, 'virtual', tag)
  end
end
