-- Finishing a flow (finish-flow, apply-writes).
--- @include "args"
--- @include "keys"
--- @include "fence"
--- @include "replay"
--- @include "finish"

-- What finishOp reads of the flow hash, in this order.
local FINISH_READ = { 'rid', 'rep', 'status', 'token', unpack(FINISH_FIELDS) }

-- Moves the running flow to `status`, releasing the lease and waking a waiting
-- parent. A resent copy of request `rid` answers the first reply. Returns "1",
-- or "w" when it woke the parent. `pre`: FINISH_READ as a caller read it already; `defer`: as
-- finish takes it.
local function finishOp(fkey, rid, id, token, status, result, err, now, pre, defer)
  -- One read for the replay check, the fence and the finish (what replayed, fence and
  -- finish would read one after the other).
  local f = pre or redis.call('HMGET', fkey, unpack(FINISH_READ))
  if f[1] == rid then
    return f[2]
  end
  checkFence(f[3], f[4], id, token)
  -- Without a parent the reply is known before the write, which then remembers it too.
  if not f[9] then
    finish(fkey, id, status, result, err, now, f, 5, { 'rid', rid, 'rep', '1' }, defer)
    return '1'
  end
  local reply = '1'
  if finish(fkey, id, status, result, err, now, f, 5, nil, defer) then
    reply = 'w'
  end
  remember(fkey, rid, reply)
  return reply
end
