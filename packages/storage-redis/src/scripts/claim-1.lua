--[[
  Claims up to `limit` ready flows of the given queues and types, each with a
  lease and a new fencing token.

  A flow is ready when it is pending or suspended with runAt <= now, or
  running with a lease that expired at or before now. Due flows are first
  moved from each (queue, type) due set into its ready set (at most 1000 per
  set and call, so one call stays short under a large backlog); the ready
  sets are ordered by priority descending, then runAt ascending, then id.

  Queues with flow control (includes/control.lua) are claimed after the
  others, within their limits, in fair order (a keyed flow's ready entry
  carries its fair tag in place of its runAt).

  Queues with limits are claimed in the home partition by its own rules
  (includes/control.lua); another partition of a partitioned store claims
  them only with a quota the home partition admitted (the store's two-step
  admission, see internal/admission.ts), marking each such run "adm", and
  otherwise leaves them, reporting how many are ready.

  Input:
    KEYS[1]  the partition's created index, for routing only: Redis Cluster
             sends the script to the node of its slot, which every key of the
             partition shares; the (queue, type) index keys are derived from ARGV[1]

    ARGV[1]  key base "{tag}:"
    ARGV[2]  worker id
    ARGV[3]  limit (0: claim nothing, report only: a peek)
    ARGV[4]  lease expiry (now + leaseMs)
    ARGV[5]  now (ms)
    ARGV[6]  flags: "h" when this partition keeps the queues' limits (the home
             partition), "r" to report the partition's state after the claim,
             "p<hand-off lease ms>:<until ms>" to park the worker with the slots this
             claim leaves free, or unpark it when it takes `limit` (includes/park.lua)
    ARGV[7]  number of queues, n
    ARGV[8 .. 7+2n]   per queue, its name then its quota: "" (this partition's
                      rules) or k >= 0 (at most k, admitted by the home partition)
    ARGV[8+2n .. #ARGV] types

  Output:
    { report, claimed flow, ... }: each claimed flow as includes/claim.lua
    returns it (CLAIMED_FIELDS' values in that order, false for none; the new
    token in "token"). The report (empty
    without "r"): { best ready entry's score (-priority) or false, its member
    or false, ready entries, earliest due time not yet reached or false,
    { queue, ready entries, ... } of limited queues left to admission }.
]]
--- @include "includes/args"
--- @include "includes/claim-ready"

worker, limit, leaseUntil, now, flags, queues, quotas, types = claimArgsAt(ARGV, 2, #ARGV)
--- @include "includes/claim-body"

if string.find(ARGV[6], 'r', 1, true) == nil then
  table.insert(claimed, 1, {})
  return claimed
end

-- The partition's state after the claim, over the queues it claims by itself or was
-- admitted to: the best ready entry, how many are ready, the earliest due time to come.
local best, count, wake = nil, 0, nil
local function consider(queue, isControlled)
  for _, ftype in ipairs(types) do
    local ready = promote(queue, ftype, isControlled)
    local top = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
    if top[1] then
      local score = tonumber(top[2])
      if not best or score < best[1] or (score == best[1] and top[1] < best[2]) then
        best = { score, top[1] }
      end
      count = count + redis.call('ZCARD', ready)
    end
    local due = dueFirst(dueKey(queue, ftype))[2]
    if due and (not wake or tonumber(due) < tonumber(wake)) then
      wake = due
    end
  end
end
for _, queue in ipairs(free) do
  consider(queue, false)
end
for _, c in ipairs(controlled) do
  consider(c[1], true)
end
for _, a in ipairs(admitted) do
  consider(a[1], a[3])
end
local leftCounts = {}
for _, queue in ipairs(left) do
  local n = 0
  for _, ftype in ipairs(types) do
    promote(queue, ftype, true)
    n = n + redis.call('ZCARD', readyKey(queue, ftype))
  end
  leftCounts[#leftCounts + 1] = queue
  leftCounts[#leftCounts + 1] = n
end
writePromoted()
table.insert(claimed, 1, {
  best and tostring(best[1]) or false, best and best[2] or false, count, wake or false, leftCounts,
})
return claimed
