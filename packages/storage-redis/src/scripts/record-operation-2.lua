--[[
  Writes a history record at a position, unless a final (completed or
  failed) record is there already: first write wins; a `waiting` record may
  be replaced.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  history hash (position → record JSON)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  position
    ARGV[5]  record JSON, "status" first

  Output:
    { existed: 0 | 1, the stored record JSON ("" when it is ARGV[5]), cancelRequested: 0 | 1 }

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
]]
--- @include "includes/op-record"

return recordOp(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
