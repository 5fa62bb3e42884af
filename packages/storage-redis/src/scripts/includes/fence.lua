-- The fencing check every write of a lease holder starts with.

-- Raises ERGON_FLOW_NOT_FOUND for an unknown flow and ERGON_LEASE_LOST unless
-- the flow is running under exactly this token. Returns true when
-- cancellation was requested. Call it before any write: an error does not
-- undo what a script already wrote.
local function fence(fkey, id, token)
  local f = redis.call('HMGET', fkey, 'status', 'token', 'cancel')
  if not f[1] then
    error({ err = 'ERGON_FLOW_NOT_FOUND ' .. id })
  end
  if f[1] ~= 'running' or f[2] ~= token then
    error({ err = 'ERGON_LEASE_LOST ' .. id .. ' ' .. token })
  end
  return f[3] == '1'
end
