-- Parked workers and hand-off (core's ClaimRequest.park): a worker whose claim took fewer
-- flows than it asked for is parked with the slots it has left; a flow created meanwhile that
-- it could claim is claimed for it by the create and announced on the events channel, so the
-- worker starts it without a claim round trip of its own.
--
-- Keys, under P like every key of the store:
--   parked                hash: worker id -> "<slots>:<hand-off lease ms>:<parked until ms>"
--   park:<#q>:<q>:<type>  set of the workers parked for the (queue, type); a member missing
--                         from `parked` (unparked since) is dropped when a create meets it
--- @include "keys"

-- The most bytes of field values a "handed" event carries.
local HANDED_INLINE_MAX = 16384

-- Parks `worker` for each (queue, type) with `slots` free, or unparks it when `slots` is 0.
-- `spec` is "<hand-off lease ms>:<parked until ms>".
local function park(worker, slots, spec, queues, types)
  if slots <= 0 then
    redis.call('HDEL', PARKED_KEY, worker)
    return
  end
  redis.call('HSET', PARKED_KEY, worker, slots .. ':' .. spec)
  for _, queue in ipairs(queues) do
    for _, ftype in ipairs(types) do
      redis.call('SADD', parkKey(queue, ftype), worker)
    end
  end
end

-- The workers parked for (queue, type), maybe with some unparked since: usually none.
local function parkedFor(queue, ftype)
  return redis.call('SMEMBERS', parkKey(queue, ftype))
end

-- Takes a slot of the first of `workers` (parkedFor the pair) still parked, for a new flow of
-- (queue, type) due now in a queue without limits, unless an older flow of the pair is waiting
-- (first come, first served). Call it before the new flow is filed. Returns that worker and the
-- hand-off lease's expiry (a decimal string), or nil when nobody takes the flow.
local function takeParked(queue, ftype, now, workers)
  local pk = parkKey(queue, ftype)
  if redis.call('ZCARD', readyKey(queue, ftype)) > 0 or
      redis.call('ZCOUNT', dueKey(queue, ftype), '-inf', now) > 0 then
    return nil
  end
  local nowMs = tonumber(now)
  for _, worker in ipairs(workers) do
    local spec = redis.call('HGET', PARKED_KEY, worker)
    local slots, leaseMs, untilMs
    if spec then
      slots, leaseMs, untilMs = string.match(spec, '^(%d+):(%d+):(%d+)$')
    end
    if not slots or tonumber(untilMs) <= nowMs then
      -- Unparked (or its time ran out): met here, dropped here.
      redis.call('SREM', pk, worker)
      if spec then
        redis.call('HDEL', PARKED_KEY, worker)
      end
    else
      local left = tonumber(slots) - 1
      if left > 0 then
        redis.call('HSET', PARKED_KEY, worker, left .. ':' .. leaseMs .. ':' .. untilMs)
      else
        redis.call('HDEL', PARKED_KEY, worker)
      end
      return worker, string.format('%.0f', nowMs + tonumber(leaseMs))
    end
  end
  return nil
end

-- Announces that `worker` took the new flow `id` (takeParked), whose claimed hash is `flat`.
-- Every process hears every event: a large flow goes without its fields, which the worker's
-- store reads then.
local function publishHanded(id, worker, flat)
  local size = 0
  for i = 2, #flat, 2 do
    size = size + #flat[i]
  end
  local fields = ''
  if size <= HANDED_INLINE_MAX then
    fields = ',"flow":' .. cjson.encode(flat)
  end
  redis.call('PUBLISH', EVENTS_CHANNEL, '{"type":"handed","flowId":' .. cjson.encode(id) ..
    ',"workerId":' .. cjson.encode(worker) .. fields .. '}')
end
