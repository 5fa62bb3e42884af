--[[
  Claims one named flow, if it is ready now and of one of the given queues
  and types: pending or suspended with runAt <= now, or running with a lease
  that expired at or before now. Readiness is read from the flow itself, not
  from the indexes, so the answer does not depend on earlier claims. In a
  queue with flow control it is claimed only within the queue's limits.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  worker id
    ARGV[4]  lease expiry (now + leaseMs)
    ARGV[5]  now (ms)
    ARGV[6]  number of queues, n
    ARGV[7 .. 6+n]    queues
    ARGV[7+n .. #ARGV] types

  Output:
    { } when not claimed, or { flow hash as a flat field/value list }
]]
--- @include "includes/keys"
--- @include "includes/claim"
--- @include "includes/control"

local fkey, id, now = KEYS[1], ARGV[2], tonumber(ARGV[5])
local f = redis.call('HMGET', fkey, 'status', 'queue', 'type', 'runAt', 'lease')
local status = f[1]
if not status then
  return {}
end

local function listed(value, from, to)
  for i = from, to do
    if ARGV[i] == value then
      return true
    end
  end
  return false
end
local nQueues = tonumber(ARGV[6])
if not listed(f[2], 7, 6 + nQueues) or not listed(f[3], 7 + nQueues, #ARGV) then
  return {}
end

local ready = false
if status == 'pending' or status == 'suspended' then
  ready = f[4] and tonumber(f[4]) <= now
elseif status == 'running' then
  ready = tonumber(f[5] or 0) <= now
end
if not ready then
  return {}
end
local limits, isControlled = controlOf(f[2])
if isControlled then
  local slots, keyRunning = controlSlots(f[2], limits, 1, now)
  if slots < 1 or keyFull(keyRunning, limits, fkey) then
    return {}
  end
  local claimed = claimFlow(fkey, id, ARGV[3], ARGV[4], ARGV[5])
  controlStarted(f[2], limits, id, fkey, now)
  return { claimed }
end
return { claimFlow(fkey, id, ARGV[3], ARGV[4], ARGV[5]) }
