-- The body of create-flow and create-flow-claim (see their headers for ARGV and the reply): the
-- two differ only in what they include. create-flow, for a create that asks for no claim (no
-- ARGV[19]), leaves out includes/claim: its functions and tables are made on every run of a
-- script that pastes them, and only the creator's claim of a flow of a queue with limits
-- (claimFlow below) uses them. Reached without them, that branch fails on the missing global.
--- @include "args"
--- @include "keys"
--- @include "index"
--- @include "owner"
--- @include "events"
--- @include "control"
--- @include "park"

local fkey = KEYS[1]
local rid = ARGV[2]
local id = ARGV[3]

if redis.call('EXISTS', fkey) == 1 then
  local created = 0
  if redis.call('HGET', fkey, 'crid') == rid then
    created = 1
  end
  return { created, redis.call('HGETALL', fkey), 0 }
end

local ckey, clim = opt(ARGV[12]), opt(ARGV[13])
local dedupKey, dedupFor = opt(ARGV[14]), opt(ARGV[15])
local debounceKey, delay, maxWait = opt(ARGV[16]), opt(ARGV[17]), opt(ARGV[18])
local nowMs = tonumber(ARGV[11])

if dedupKey then
  local held = redis.call('HMGET', flowKeyKey('dedup', dedupKey), 'flow', 'until')
  local hkey = held[1] and flowKey(held[1])
  local status = hkey and redis.call('HGET', hkey, 'status')
  if status then
    local live
    if held[2] then
      live = nowMs < tonumber(held[2])
    else
      live = not isTerminal(status)
    end
    if live then
      return { 0, redis.call('HGETALL', hkey), 0 }
    end
  end
end
if debounceKey then
  local heldId = redis.call('HGET', flowKeyKey('debounce', debounceKey), 'flow')
  local hkey = heldId and flowKey(heldId)
  local h = hkey and redis.call('HMGET', hkey, 'status', 'runs', 'createdAt', 'queue')
  if h and h[1] == 'pending' and h[2] == '0' then
    local at = math.max(tonumber(ARGV[8]), nowMs + tonumber(delay))
    if maxWait then
      at = math.min(at, tonumber(h[3]) + tonumber(maxWait))
    end
    redis.call('HSET', hkey, 'input', ARGV[6], 'runAt', at, 'updatedAt', ARGV[11])
    reindex(hkey, heldId)
    if at > nowMs then
      publishReady(h[4], string.format('%.0f', at), hkey, heldId)
    else
      publishReady(h[4], nil, hkey, heldId)
    end
    return { 0, redis.call('HGETALL', hkey), 0 }
  end
end

local queue, runAt, now = ARGV[5], ARGV[8], ARGV[11]
if debounceKey then
  runAt = string.format('%.0f', math.max(tonumber(runAt), nowMs + tonumber(delay)))
end
-- Every field this script writes to the new hash, in one list: written by one HSET, and
-- returned as the flow in place of an HGETALL (nothing else writes the hash before it returns;
-- a claim here makes its reply from it with the claim's writes, see claimFlow).
-- In the order of the hash (HSET appends a new hash's fields in order), those a run reads or
-- writes one by one first: a listpack hash (the form of a hash this size) finds a field by a scan
-- from its head, so a field at place k costs every HMGET, HSET or HDEL of it k steps. "rm" (the
-- flow's member in its ready set, "" for none: includes/claim.lua) first, then what claims,
-- records and finishes read and write; what only a whole read (HGETALL) takes last.
-- Priority 0, nearly every flow's, is no field (every reader takes none as 0): each field is two
-- more strings for every whole read of the hash to convert, and a step more for every scan.
-- "opts" (its value at OPTS_AT): the names of the optional fields the flow is created with, the
-- ones `field` adds below, so a claim of a flow never claimed reads the fields it needs by name
-- rather than the whole hash (includes/claim.lua, claimReadNew).
local fields = {
  'rm', '', 'status', 'pending', 'token', '0', 'cancel', '0', 'queue', queue, 'type', ARGV[4],
  'updatedAt', now, 'runs', '0', 'opts', '', 'waits', '[]', 'runAt', runAt, 'id', id,
  'input', ARGV[6], 'createdAt', now, 'crid', rid,
}
local OPTS_AT = 18
local function field(name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
if ARGV[7] ~= '0' then
  field('priority', ARGV[7])
end
local parentId = opt(ARGV[9])
if parentId then
  field('parentId', parentId)
end
local trace = opt(ARGV[10])
if trace then
  field('trace', trace)
end
if dedupKey then
  local dk = flowKeyKey('dedup', dedupKey)
  redis.call('DEL', dk)
  redis.call('HSET', dk, 'flow', id)
  if dedupFor then
    redis.call('HSET', dk, 'until', nowMs + tonumber(dedupFor))
  end
end
if debounceKey then
  field('dbk', debounceKey)
  redis.call('HSET', flowKeyKey('debounce', debounceKey), 'flow', id)
end
local ord = nil
if ckey then
  -- Fair tag: max(the queue's virtual time, the key's last tag) + the key's step.
  local cfg = queuePart('qcfg', queue)
  redis.call('HSET', cfg, 'keyed', '1')
  local limits = controlOf(queue)
  local weight = 1
  if limits and limits['keyWeights'] and limits['keyWeights'][ckey] then
    weight = limits['keyWeights'][ckey]
  end
  local step = math.max(1, math.floor(1000000 / weight + 0.5))
  local virtual = tonumber(redis.call('HGET', cfg, 'virtual') or 0)
  local last = tonumber(redis.call('HGET', queuePart('qkey', queue), ckey) or 0)
  local tag = string.format('%.0f', math.max(virtual, last) + step)
  redis.call('HSET', queuePart('qkey', queue), ckey, tag)
  field('ckey', ckey)
  field('tag', tag)
  field('ord', tag)
  ord = tag
  if clim then
    field('clim', clim)
  end
end
-- The optional fields, all added by now (a claim by the creator adds lease and owner later).
if #fields > OPTS_AT + 12 then
  local names = {}
  for i = OPTS_AT + 13, #fields, 2 do
    names[#names + 1] = fields[i]
  end
  fields[OPTS_AT] = table.concat(names, ' ')
end
local at = nil
if tonumber(runAt) > tonumber(now) then
  at = runAt
end

local worker = opt(ARGV[19])
-- Due now and nobody asked for it: a parked worker may take it at once (no ready event then).
local taker, handLease = nil, nil
if not worker and not at and not ckey then
  local parked = parkedFor(queue, ARGV[4])
  if not select(2, controlOf(queue)) then
    if #parked > 0 then
      taker, handLease = takeParked(queue, ARGV[4], now, parked)
    end
    if not taker then
      -- Filed straight into its ready set (its member there in "rm"), where a claim's
      -- promotion would move it from its due set, reading and writing its hash to do so.
      local member = orderPart(runAt) .. id
      fields[2] = member
      redis.call('HSET', fkey, unpack(fields))
      redis.call('ZADD', CREATED_KEY, 0, orderPart(now) .. id)
      redis.call('ZADD', readyKey(queue, ARGV[4]), readyScore(ARGV[7]), member)
      publishReady(queue, nil, fkey, id, { ARGV[4], ARGV[7], ord, runAt })
      if not debounceKey then
        -- The flow is what the caller sent (no value of its hash came from here but its ready
        -- member and "opts", which no record shows): none sent back (internal/flows.ts, sentFlow),
        -- some 30 strings fewer for Redis to reply and the client to parse.
        return { 1, false, 0 }
      end
      return { 1, fields, 0 }
    end
  end
end

-- Files the new hash: in the created index, and in its due set at `due` (its runAt when pending).
-- (Defined past the path above, which has no use for it: a function made is memory Lua collects.)
local function file(due)
  redis.call('HSET', fkey, unpack(fields))
  redis.call('ZADD', CREATED_KEY, 0, orderPart(now) .. id)
  redis.call('ZADD', dueKey(queue, ARGV[4]), due, id)
end

-- Claims the new flow for `owner` in the hash's one write, as claimFlow would (running under
-- token 1, lease until `leaseUntil`, held by the worker, due at the lease's expiry): it has no
-- owner, ready-set member or admission to undo.
local function fileClaimed(owner, leaseUntil)
  fields[4], fields[6], fields[16] = 'running', '1', '1'
  field('lease', leaseUntil)
  field('owner', owner)
  file(leaseUntil)
  redis.call('SADD', heldKey(owner), id)
end

if taker then
  fileClaimed(taker, handLease)
  publishHanded(id, taker, fields)
  return { 1, fields, 0 }
end

-- Claimed for its creator when asked and due (as claim-flow would): no ready event, no other
-- worker woken for a flow that is already running.
if worker and not at then
  local limits, isControlled = controlOf(queue)
  if not isControlled then
    fileClaimed(worker, ARGV[20])
    return { 1, fields, 1 }
  end
  -- A new flow is in no claim index yet: pending, it is due at its runAt (what `reindex` files).
  file(runAt)
  if ARGV[21] ~= 'h' then
    publishReady(queue, nil, fkey, id, { ARGV[4], ARGV[7], ord, runAt })
    return { 1, fields, 'admit' }
  end
  local slots, keyRunning = controlSlots(queue, limits, 1, nowMs)
  if slots >= 1 and not keyFull(keyRunning, limits, fkey) then
    -- What claimFlow reads of the new flow, known: written above (no owner, "abandons", "rm" or
    -- "adm" yet).
    local newPre = { [F_STATUS] = 'pending', [F_TOKEN] = '0', [F_RUNS] = '0', [F_QUEUE] = queue, [F_TYPE] = ARGV[4] }
    local claimed = claimFlow(fkey, id, worker, ARGV[20], now, nil, newPre, fields)
    controlStarted(queue, limits, id, fkey, nowMs)
    return { 1, claimed, 1 }
  end
else
  file(runAt)
end
publishReady(queue, at, fkey, id, { ARGV[4], ARGV[7], ord, runAt })
return { 1, fields, 0 }
