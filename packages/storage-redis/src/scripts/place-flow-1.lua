--[[
  Records where a flow that is not kept in the partition its id hashes to
  lives (a child in its parent's partition, a flow with flow-control keys in
  the home partition), before it is created there. Runs in the partition the
  id hashes to. First placement wins: a flow already there, or already placed
  elsewhere, stays where it is.

  Input:
    KEYS[1]  the flow's location key (string: a partition number)

    ARGV[1]  key base "{tag}:" of the partition the id hashes to
    ARGV[2]  flow id
    ARGV[3]  the partition to keep it in

  Output:
    the partition the flow lives in: ARGV[3] when newly placed, an earlier
    placement, or -1 when the flow exists here (in the partition its id hashes to)
]]
--- @include "includes/keys"

if redis.call('EXISTS', flowKey(ARGV[2])) == 1 then
  return -1
end
local at = redis.call('GET', KEYS[1])
if at then
  return tonumber(at)
end
redis.call('SET', KEYS[1], ARGV[3])
return tonumber(ARGV[3])
