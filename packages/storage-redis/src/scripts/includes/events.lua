-- Store events, published on EVENTS_CHANNEL for idle workers and result waiters.
--- @include "keys"

-- A flow of `queue` became claimable now, or at `at` (a decimal string) when given. With
-- the flow (`fkey`, `id`) the event also carries its type ("t"), priority ("p") and place in
-- the claim order ("m", the ready-set member), so other processes know where it ranks
-- without asking (internal/tracker.ts).
local function publishReady(queue, at, fkey, id, known)
  local message = '{"type":"ready","queue":' .. cjson.encode(queue)
  if at then
    message = message .. ',"at":' .. at
  end
  if fkey then
    -- `known`: the flow's { type, priority, ord, runAt } when the caller just wrote them.
    local f = known or redis.call('HMGET', fkey, 'type', 'priority', 'ord', 'runAt')
    if f[1] then
      message = message .. ',"t":' .. cjson.encode(f[1]) .. ',"p":' .. cjson.encode(tonumber(f[2]) or 0) ..
        ',"m":' .. cjson.encode(orderPart(f[3] or f[4] or 0) .. id)
    end
  end
  redis.call('PUBLISH', EVENTS_CHANNEL, message .. '}')
end

-- A flow reached a terminal state.
local function publishFinished(id, status)
  redis.call('PUBLISH', EVENTS_CHANNEL,
    '{"type":"finished","flowId":' .. cjson.encode(id) .. ',"status":"' .. status .. '"}')
end

-- Cancellation was requested for a running flow: its worker stops it now.
local function publishCancelRequested(id)
  redis.call('PUBLISH', EVENTS_CHANNEL, '{"type":"cancel-requested","flowId":' .. cjson.encode(id) .. '}')
end

-- A running flow reported progress: readers fetch the flow hash for the value.
local function publishProgress(id)
  redis.call('PUBLISH', EVENTS_CHANNEL, '{"type":"progress","flowId":' .. cjson.encode(id) .. '}')
end
