-- Claims of ready flows (claim-1.lua, and the next claim of a finish: finish-claim-1.lua,
-- apply-claim-1.lua): what a claim uses, the claim in progress in the locals below. The claim
-- itself is includes/claim-body, pasted where it runs once those locals are set (claimArgsAt
-- reads them from claim-1.lua's ARGV[2..]): at the top level of the script, not in a function,
-- since a script makes its closures anew on every call, and a function of the claim's size
-- would capture some 30 upvalues, each an upvalue lookup walking the open ones (Lua 5.1).
--- @include "keys"
--- @include "index"
--- @include "claim"
--- @include "control"
--- @include "park"

local PROMOTE_MAX = 1000
-- The claim in progress: claimArgsAt's values (`limit` a number).
local worker, limit, leaseUntil, now, flags, queues, quotas, types

-- Flows this call moved into a ready set: id -> claimFlow's fields (claimRead's, "rm" the
-- ready-set member, not yet written), in `promotedIds` order. A flow claimed here has no "rm"
-- to write and delete; the others get theirs at the end (writePromoted). Past the first
-- `limit` of a (queue, type) (a backlog: most stay in the ready set for later calls) only
-- the member is kept ("partial"): `live` reads their hash if this call claims them.
local promoted, promotedIds

-- Moves the (queue, type)'s due flows into its ready set (at most PROMOTE_MAX per call).
-- A flow's place there is its fair tag ("ord", flow control) if it has one, else its runAt.
local function promote(queue, ftype, isControlled)
  local due, ready = dueKey(queue, ftype), readyKey(queue, ftype)
  local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, PROMOTE_MAX)
  if #ids == 0 then
    return ready
  end
  local entries = {}
  for k, id in ipairs(ids) do
    local full = k <= limit
    local priority, runAt, ord, f
    if full then
      -- The whole hash (claimRead): what a claim reads, priority, runAt and ord among it.
      f = claimRead(flowKey(id))
      priority, runAt, ord = f[F_PRIORITY], f[F_RUNAT], f[F_ORD]
    else
      local p = redis.call('HMGET', flowKey(id), 'priority', 'runAt', 'ord')
      priority, runAt, ord = p[1], p[2], p[3]
    end
    -- In a controlled queue an unkeyed flow has no tag and goes first (tag 0), as on every store.
    local place = ord or (isControlled and 0) or runAt or 0
    local member = orderPart(place) .. id
    entries[#entries + 1] = readyScore(priority)
    entries[#entries + 1] = member
    if full then
      f[F_RM], f.rmPending = member, true
      promoted[id] = f
    else
      promoted[id] = { [F_RM] = member, partial = true }
    end
    promotedIds[#promotedIds + 1] = id
  end
  redis.call('ZADD', ready, unpack(entries))
  redis.call('ZREM', due, unpack(ids))
  dueLeft(due)
  return ready
end

-- Claims the flow of a ready entry, with the fields `live` found (`f`); `defer` as claimFlow's.
local function take(fkey, id, f, adm, defer)
  -- Only when there: in Lua 5.1 a nil stored under an absent key adds the key to the table.
  if promoted[id] then
    promoted[id] = nil
  end
  return claimFlow(fkey, id, worker, leaseUntil, now, adm, f, nil, defer)
end

-- Writes "rm" (its ready-set member) on each flow this call moved into a ready set and left there.
local function writePromoted()
  for _, id in ipairs(promotedIds) do
    local p = promoted[id]
    if p then
      redis.call('HSET', flowKey(id), 'rm', p[F_RM])
    end
  end
end

-- Claim order of two ready entries ({ score, member, ... }).
local function byClaimOrder(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  return a[2] < b[2]
end

-- The best `count` entries of the queue's ready sets (one per type), in claim order. `merged`:
-- the caller sorts them with another queue's. Entries that are sorted carry their score; the
-- entries of one set, the usual claim, need none: they come in order.
local function readyEntries(queue, count, isControlled, merged)
  local entries = {}
  if #types == 1 and not merged then
    local ready = promote(queue, types[1], isControlled)
    if count > 0 then
      for _, member in ipairs(redis.call('ZRANGE', ready, 0, count - 1)) do
        entries[#entries + 1] = { false, member, ready }
      end
    end
    return entries
  end
  for _, ftype in ipairs(types) do
    local ready = promote(queue, ftype, isControlled)
    local top = {}
    if count > 0 then
      top = redis.call('ZRANGE', ready, 0, count - 1, 'WITHSCORES')
    end
    for i = 1, #top, 2 do
      entries[#entries + 1] = { tonumber(top[i + 1]), top[i], ready }
    end
  end
  -- One set's entries come in its order already (score, then member bytes).
  if #types > 1 then
    table.sort(entries, byClaimOrder)
  end
  return entries
end

-- The entries of a controlled queue's ready sets (one per type) in claim order, as
-- readyEntries(queue, cap, true) lists them, read a page at a time: `first` entries of each set,
-- then twice as many each time. A claim whose slots fill early (the usual case) reads no more
-- than it uses, where a list of `cap` (its limit + FAIR_SCAN) per set cost a read and a sort of
-- hundreds of entries per call. Returns the function that gives the next entry, or nil. The
-- caller counts an entry it leaves in its set (a full key) in `entry[4].kept`: taken and stale
-- entries leave the set, so the next page starts at that count.
local function fairEntries(queue, first, cap)
  local sets = {}
  for _, ftype in ipairs(types) do
    sets[#sets + 1] = { ready = promote(queue, ftype, true), page = {}, at = 1, read = 0, size = first, kept = 0 }
  end
  -- The set's next unread entry ({ score, member, ready set, set }), reading a page if needed.
  local function head(s)
    if s.at > #s.page then
      local n = math.min(s.size, cap - s.read)
      if s.ended or n <= 0 then
        return nil
      end
      local top = redis.call('ZRANGE', s.ready, s.kept, s.kept + n - 1, 'WITHSCORES')
      s.page, s.at = {}, 1
      for i = 1, #top, 2 do
        s.page[#s.page + 1] = { tonumber(top[i + 1]), top[i], s.ready, s }
      end
      s.read, s.size, s.ended = s.read + #s.page, s.size * 2, #s.page < n
    end
    return s.page[s.at]
  end
  return function()
    local best
    for _, s in ipairs(sets) do
      local e = head(s)
      if e and (not best or e[1] < best[1] or (e[1] == best[1] and e[2] < best[2])) then
        best = e
      end
    end
    if best then
      best[4].at = best[4].at + 1
    end
    return best
  end
end

-- The entry's flow if it is still claimable, with claimRead's fields (what promote read when this
-- call moved it into the ready set, else read now, claimReadNew's read first when this call did
-- not move it there); a stale entry (flow gone or finished) is dropped.
local function live(entry)
  local id = string.sub(entry[2], 17)
  local fkey = flowKey(id)
  local p = promoted[id]
  local f = p
  if not p then
    -- Most often a new flow its create filed here (includes/create.lua).
    f = claimReadNew(fkey, id)
  elseif p.partial then
    f = claimRead(fkey)
    -- Moved into the ready set by this call: its member there is not in the hash yet.
    f[F_RM] = p[F_RM]
    f.rmPending = true
  end
  local status = f[F_STATUS]
  if status == 'pending' or status == 'suspended' or status == 'running' then
    return id, fkey, f
  end
  redis.call('ZREM', entry[3], entry[2])
  if p then
    promoted[id] = nil
  end
  return nil
end

-- The claim's arguments as claim-1.lua takes them from ARGV[2] (here from args[at]), its types
-- running to args[last]: worker, limit (a number), lease expiry, now, flags, queues, quotas
-- (queue -> "" or k), types.
local function claimArgsAt(args, at, last)
  local nQueues = tonumber(args[at + 5])
  local queues, quotas, ts = {}, {}, {}
  for i = 0, nQueues - 1 do
    local queue = args[at + 6 + 2 * i]
    queues[#queues + 1] = queue
    quotas[queue] = args[at + 7 + 2 * i]
  end
  for i = at + 6 + 2 * nQueues, last do
    ts[#ts + 1] = args[i]
  end
  return args[at], tonumber(args[at + 1]), args[at + 2], args[at + 3], args[at + 4], queues, quotas, ts
end
