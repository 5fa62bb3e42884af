-- The fencing check every write of a lease holder starts with.

-- Raises ERGON_FLOW_NOT_FOUND for an unknown flow and ERGON_LEASE_LOST unless
-- the flow is running under exactly this token. Returns true when
-- cancellation was requested. Call it before any write: an error does not
-- undo what a script already wrote.
-- The check itself, on the hash's `status` and `token` fields as read.
local function checkFence(status, held, id, token)
  if not status then
    error({ err = 'ERGON_FLOW_NOT_FOUND ' .. id })
  end
  if status ~= 'running' or held ~= token then
    error({ err = 'ERGON_LEASE_LOST ' .. id .. ' ' .. token })
  end
end

local function fence(fkey, id, token)
  local f = redis.call('HMGET', fkey, 'status', 'token', 'cancel')
  checkFence(f[1], f[2], id, token)
  return f[3] == '1'
end
