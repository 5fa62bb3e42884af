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
    ARGV[6]  "h" when this partition keeps the queues' limits (the home partition), else ""
    ARGV[7]  "" to claim by this partition's rules, or "1": admitted by the home partition
             (claimed whatever this partition's copy of the limits says, marked "adm")
    ARGV[8]  number of queues, n
    ARGV[9 .. 8+n]    queues
    ARGV[9+n .. #ARGV] types

  Output:
    { } when not claimed, { flow hash as a flat field/value list } when claimed, or
    { "admit", queue } when the flow's queue has limits that the home partition keeps
    and no admission was given
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
local nQueues = tonumber(ARGV[8])
if not listed(f[2], 9, 8 + nQueues) or not listed(f[3], 9 + nQueues, #ARGV) then
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
if ARGV[7] ~= '' then
  return { claimFlow(fkey, id, ARGV[3], ARGV[4], ARGV[5], f[2]) }
end
local limits, isControlled = controlOf(f[2])
if isControlled and ARGV[6] ~= 'h' then
  return { 'admit', f[2] }
end
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
