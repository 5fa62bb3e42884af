-- The claim of claim-ready (includes/claim-ready.lua), pasted where it runs once the claim's
-- locals there are set: claims up to `limit` ready flows of `queues` (with their `quotas`) and
-- `types`, each with a lease and a new fencing token, as claim-1.lua documents it, and parks or
-- unparks the worker as `flags` say. It leaves in locals where it was pasted: `claimed`, the
-- claimed flows, each as includes/claim.lua returns it; `free`, `controlled`, `admitted` and
-- `left`, its queues by how it claimed them (for claim-1.lua's report). Without "r" in `flags` it
-- writes what it promoted (writePromoted); with it, the caller does once its report is made.
promoted, promotedIds = {}, {}
-- Its queues by how it claims them: free (no flow control), controlled (flow control kept by
-- this partition), admitted ({ queue, quota, controlled } under the home partition's admission),
-- left (limited queues this partition leaves to admission).
local free, controlled, admitted, left = {}, {}, {}, {}
local home = string.find(flags, 'h', 1, true) ~= nil

for _, queue in ipairs(queues) do
  local limits, isControlled = controlOf(queue)
  if quotas[queue] ~= '' then
    admitted[#admitted + 1] = { queue, tonumber(quotas[queue]), isControlled }
  elseif isControlled and home then
    controlled[#controlled + 1] = { queue, limits }
  elseif isControlled then
    left[#left + 1] = queue
  else
    free[#free + 1] = queue
  end
end

local candidates = {}
if #free == 1 then
  candidates = readyEntries(free[1], limit, false)
else
  for _, queue in ipairs(free) do
    for _, entry in ipairs(readyEntries(queue, limit, false, true)) do
      candidates[#candidates + 1] = entry
    end
  end
  table.sort(candidates, byClaimOrder)
end

-- The free queues' claims write their indexes once, after the last of them (the entries were
-- read before; nothing reads them again before the flush).
local claimed = {}
local deferred = claimDeferred()
for i = 1, math.min(limit, #candidates) do
  local id, fkey, f = live(candidates[i])
  if id then
    claimed[#claimed + 1] = take(fkey, id, f, nil, deferred)
  end
end
flushClaims(deferred, worker)

-- Controlled queues (flow control): within their limits, in fair order.
local nowMs = tonumber(now)
for _, c in ipairs(controlled) do
  local want = limit - #claimed
  if want <= 0 then
    break
  end
  local queue, limits = c[1], c[2]
  local slots, keyRunning = controlSlots(queue, limits, want, nowMs)
  if slots > 0 then
    local taken = 0
    local nextEntry = fairEntries(queue, slots, want + FAIR_SCAN)
    while taken < slots do
      local entry = nextEntry()
      if not entry then
        break
      end
      local id, fkey, f = live(entry)
      -- `f` is claimRead's (live): the key, its limit and the tag are among it.
      if id and not keyFull(keyRunning, limits, fkey, { f[F_CKEY], f[F_CLIM] }) then
        claimed[#claimed + 1] = take(fkey, id, f)
        controlStarted(queue, limits, id, fkey, nowMs, f[F_TAG])
        taken = taken + 1
      elseif id then
        -- Its key is full: the entry stays in its ready set, ahead of the ones not read yet.
        entry[4].kept = entry[4].kept + 1
      end
    end
  end
end
-- Admitted by the home partition: at most the quota, in claim order, marked with the queue.
for _, a in ipairs(admitted) do
  local queue = a[1]
  local want = math.min(a[2], limit - #claimed)
  local taken = 0
  for _, entry in ipairs(readyEntries(queue, want, a[3])) do
    if taken >= want then
      break
    end
    local id, fkey, f = live(entry)
    if id then
      claimed[#claimed + 1] = take(fkey, id, f, queue)
      taken = taken + 1
    end
  end
end

-- A claim that does not ask to park unparks its worker (includes/park.lua).
local parkSpec = string.match(flags, 'p(%d+:%d+)')
park(worker, parkSpec and limit - #claimed or 0, parkSpec, free, types)

if string.find(flags, 'r', 1, true) == nil then
  writePromoted()
end
