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
  local previous = replayed(fkey, rid)
  if previous then
    return previous
  end
  fence(fkey, id, token)
  local reply = '1'
  if finish(fkey, id, status, result, err, now) then
    reply = 'w'
  end
  remember(fkey, rid, reply)
  return reply
end
