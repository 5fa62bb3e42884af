-- Finishing a flow (finish-flow, apply-writes).
--- @include "args"
--- @include "keys"
--- @include "fence"
--- @include "replay"
--- @include "finish"

-- Moves the running flow to `status`, releasing the lease and waking a waiting
-- parent. A resent copy of request `rid` answers the first reply. Returns "1".
local function finishOp(fkey, rid, id, token, status, result, err, now)
  local previous = replayed(fkey, rid)
  if previous then
    return previous
  end
  fence(fkey, id, token)
  finish(fkey, id, status, result, err, now)
  remember(fkey, rid, '1')
  return '1'
end
