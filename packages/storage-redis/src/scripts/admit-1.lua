--[[
  The first step of claiming flows of a queue with limits outside the home
  partition (internal/admission.ts): admits up to `want` runs within the
  queue's concurrency and rate, counting its flows running here and the runs
  admitted before, by filing k placeholders "r:<request>:<i>" in its
  remote-running set until the lease expiry (and k starts in its rate log).
  The claim then takes at most k flows elsewhere and the second step
  (admitted-1.lua) swaps the placeholders for the runs it took; a claimer
  that dies in between holds the slots only until the lease would expire.

  Input:
    KEYS[1]  the queue's remote-running set (qrem, see includes/control.lua)

    ARGV[1]  key base "{tag}:" of the home partition
    ARGV[2]  queue
    ARGV[3]  want
    ARGV[4]  now (ms)
    ARGV[5]  lease expiry (now + leaseMs)
    ARGV[6]  request id

  Output:
    k, 0 <= k <= want; or -1 when the queue has no limits (claim without admission)
]]
--- @include "includes/keys"
--- @include "includes/control"

local queue, want, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limits = controlOf(queue)
if not limits then
  return -1
end
local slots = controlSlots(queue, limits, want, now)
local k = math.max(0, slots)
for i = 1, k do
  local member = 'r:' .. ARGV[6] .. ':' .. i
  redis.call('ZADD', KEYS[1], ARGV[5], member)
  if limits['rate'] then
    redis.call('ZADD', queuePart('qst', queue), string.format('%.0f', startTime(queue, now)), member)
  end
end
return k
