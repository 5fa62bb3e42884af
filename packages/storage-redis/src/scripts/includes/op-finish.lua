-- Finishing a flow (finish-flow, apply-writes).
--- @include "args"
--- @include "keys"
--- @include "fence"
--- @include "replay"
--- @include "finish"

-- Moves the running flow to `status`, releasing the lease and waking a waiting
-- parent. A resent copy of request `rid` answers the first reply. Returns "1",
-- or "w" when it woke the parent.
local function finishOp(fkey, rid, id, token, status, result, err, now)
  -- One read for the replay check, the fence and the finish (what replayed, fence and
  -- finish would read one after the other).
  local f = redis.call('HMGET', fkey, 'rid', 'rep', 'status', 'token', unpack(FINISH_FIELDS))
  if f[1] == rid then
    return f[2]
  end
  if not f[3] then
    error({ err = 'ERGON_FLOW_NOT_FOUND ' .. id })
  end
  if f[3] ~= 'running' or f[4] ~= token then
    error({ err = 'ERGON_LEASE_LOST ' .. id .. ' ' .. token })
  end
  -- Without a parent the reply is known before the write, which then remembers it too.
  if not f[9] then
    finish(fkey, id, status, result, err, now, f, 5, { 'rid', rid, 'rep', '1' })
    return '1'
  end
  local reply = '1'
  if finish(fkey, id, status, result, err, now, f, 5) then
    reply = 'w'
  end
  remember(fkey, rid, reply)
  return reply
end
