-- Store events, published on EVENTS_CHANNEL for idle workers and result waiters.
--- @include "keys"

-- A flow of `queue` became claimable now, or at `at` (a decimal string) when given.
local function publishReady(queue, at)
  local message = '{"type":"ready","queue":' .. cjson.encode(queue)
  if at then
    message = message .. ',"at":' .. at
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
