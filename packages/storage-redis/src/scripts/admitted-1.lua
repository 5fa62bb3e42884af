--[[
  The second step of an admission (admit-1.lua): the placeholders of the
  request make way for the runs the claim took, each counted until its lease
  expiry; the starts of placeholders not used leave the rate log.

  Input:
    KEYS[1]  the queue's remote-running set (qrem, see includes/control.lua)

    ARGV[1]  key base "{tag}:" of the home partition
    ARGV[2]  queue
    ARGV[3]  request id
    ARGV[4]  k, the placeholders admit-1 filed
    ARGV[5]  lease expiry
    ARGV[6 .. #ARGV]  the runs taken, "<flow id>:<token>" (at most k)

  Output:
    how many runs were filed
]]
--- @include "includes/keys"
--- @include "includes/control"

local queue, rid, k = ARGV[2], ARGV[3], tonumber(ARGV[4])
for i = 1, k do
  redis.call('ZREM', KEYS[1], 'r:' .. rid .. ':' .. i)
end
local taken = #ARGV - 5
for i = 6, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[i])
end
for i = taken + 1, k do
  redis.call('ZREM', queuePart('qst', queue), 'r:' .. rid .. ':' .. i)
end
return taken
