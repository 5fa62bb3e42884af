--[[
  Writes a history record at a position, unless a final (completed or
  failed) record is there already: first write wins; a `waiting` record may
  be replaced. A lone record's script (a batch's records go through
  apply-writes, includes/op-record): the common outcome, a new record, is
  answered with a bare integer rather than a table.

  Input:
    KEYS[1]  flow hash ("{tag}:flow:" .. flow id)
    KEYS[2]  history hash (position → record JSON)

    ARGV[1]  key base "{tag}:" (the flow id, for error messages, is KEYS[1] after it)
    ARGV[2]  fencing token
    ARGV[3]  position
    ARGV[4]  record JSON, "status" first

  Output:
    cancelRequested (0 | 1), when ARGV[4] was stored (new, or over a waiting record);
    { 1, the stored record JSON, cancelRequested } when a final record was there

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
]]
--- @include "includes/op-record"

-- The fence of includes/fence, read here and checked there only when it fails: the check's
-- calls cost a lone record more than its HMGET.
local fkey, hkey, position, json = KEYS[1], KEYS[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', fkey, 'status', 'token', 'cancel')
if f[1] ~= 'running' or f[2] ~= ARGV[2] then
  checkFence(f[1], f[2], string.sub(fkey, #ARGV[1] + 6), ARGV[2])
end
local cancel = 0
if f[3] == '1' then
  cancel = 1
end
local existing = writeRecord(hkey, position, json)
if existing then
  return { 1, existing, cancel }
end
return cancel
