-- Moves a flow to a terminal state and wakes its parent if it waits on it.
--- @include "args"
--- @include "keys"
--- @include "index"
--- @include "events"
--- @include "waits"
--- @include "wake"
--- @include "owner"
--- @include "lists"
--- @include "replay"

-- The fields `finish` reads, in the order it reads them: a caller that reads the hash anyway
-- asks for these too (HMGET fkey, ..., unpack(FINISH_FIELDS)) and passes them as `pre`. A
-- `plain` finish reads the first four only (see finish).
local FINISH_FIELDS = { 'owner', 'queue', 'type', 'rm', 'error', 'parentId' }

-- Index writes of finishes that a batch makes once for all its flows (finishDeferred, then
-- flushFinishes): a call to Redis per flow and index costs a few thousand instructions beyond
-- the change itself. held: owner -> ids to drop from its held set; due: due set key -> ids to
-- drop; finished: the finished index's score/member pairs to add; events: id, status of each
-- finished flow, announced in one message (publishFinishedAll).
local function finishDeferred()
  return { held = {}, due = {}, finished = {}, events = {} }
end

-- Flows that reached a terminal state, `list` = { id, status, ... }: one message for them all,
-- {"type":"finished","flows":[id, status, ...]} (internal/codec.ts). A message costs Redis a
-- delivery to every subscriber and each of them a parse: per flow, that was some 10% of Redis's
-- CPU and of a worker's in a drain of one-step flows. One flow keeps the single form, the only
-- one processes before 0.1.1 read (they see a batch as no event and poll for a result instead).
local function publishFinishedAll(list)
  if #list == 2 then
    publishFinished(list[1], list[2])
    return
  end
  -- The list in one cjson.encode (a list of strings: a JSON array), not an encode and a
  -- concatenation per flow (each a new Lua string).
  redis.call('PUBLISH', EVENTS_CHANNEL, '{"type":"finished","flows":' .. cjson.encode(list) .. '}')
end

-- Makes the index writes and the events `d` (finishDeferred) holds.
local function flushFinishes(d)
  for owner, ids in pairs(d.held) do
    redis.call('SREM', heldKey(owner), unpack(ids))
  end
  for due, ids in pairs(d.due) do
    redis.call('ZREM', due, unpack(ids))
    dueLeft(due)
  end
  if #d.finished > 0 then
    redis.call('ZADD', FINISHED_KEY, unpack(d.finished))
  end
  if #d.events > 0 then
    publishFinishedAll(d.events)
  end
end

-- `result` replaces the stored result (nil clears it). A completed flow has
-- no error; a failed one gets `err`; a cancelled one keeps the reason its
-- cancel request stored, else gets `err`. `pre`, when given, is the hash's
-- FINISH_FIELDS already read (from index `from`); `rid`, when given, is written as the
-- flow's last request id, with the reply "1", in the same write (replay.lua's remember);
-- `defer`, a finishDeferred() its caller flushes once it has made its last read of the flow's
-- indexes (held set, due set, finished index). `plain`: the flow is known to have no parent, no
-- abandons and no lastError (its lease holder saw none in the claimed hash, and none of them
-- changes while the lease holds: see internal/held.ts), so `pre` need not hold its parentId,
-- and those fields are not looked for to delete (a field a hash lacks costs a scan of it all).
-- Returns true when it woke the parent.
local function finish(fkey, id, status, result, err, now, pre, from, rid, defer, plain)
  -- One read, one write and one delete of the hash (the hot end of every flow).
  -- f[o + 1] .. f[o + 6]: FINISH_FIELDS, read here or by the caller (no copy of its list).
  local f, o = pre, (from or 1) - 1
  if not pre then
    f, o = redis.call('HMGET', fkey, unpack(FINISH_FIELDS)), 0
  end
  -- "rm": "" when the flow is in no ready set (includes/claim.lua); a finished hash keeps none.
  local rm = f[o + 4]
  if plain and rid and result and status == 'completed' and f[o + 1] and rm and not f[o + 5] then
    -- The usual end (a plain flow completed with a result): the deletes and writes below, made
    -- without building their lists. "rm" first: the others are then a place nearer the head.
    redis.call('HDEL', fkey, 'rm', 'runAt', 'lease', 'owner')
    redis.call('HSET', fkey, 'status', status, 'finishedAt', now, 'updatedAt', now, 'rr', remembered(rid, '1'),
      'result', result)
  else
    -- Both lists made with room for every field they may get (the trailing nils): a table that
    -- outgrows the size its constructor gave it is rehashed, twice for `set` as it was.
    local set = { 'status', status, 'finishedAt', now, 'updatedAt', now, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil }
    -- A plain flow's waits are "[]" already: its claim made them so, and only a suspension, which
    -- ends the lease, changes them (a field written is a scan of the hash to find it).
    if not plain then
      set[7], set[8] = 'waits', '[]'
    end
    if rid then
      set[#set + 1] = 'rr'
      set[#set + 1] = remembered(rid, '1')
    end
    -- Owner and ready-set member only when the hash has them (`f` read them): each field HDEL
    -- looks for is a scan of the hash.
    local del = { 'runAt', 'lease', nil, nil, nil, nil, nil, nil }
    if not plain then
      del[3], del[4] = 'abandons', 'lastError'
    end
    if f[o + 1] then
      del[#del + 1] = 'owner'
    end
    if rm then
      del[#del + 1] = 'rm'
    end
    if result then
      set[#set + 1] = 'result'
      set[#set + 1] = result
    else
      del[#del + 1] = 'result'
    end
    if status == 'completed' then
      -- Only when the hash has one (`f` read it): an HDEL of a field it lacks scans the hash.
      if f[o + 5] then
        del[#del + 1] = 'error'
      end
    elseif err and not (status == 'cancelled' and f[o + 5]) then
      set[#set + 1] = 'error'
      set[#set + 1] = err
    end
    -- The deletes first: the writes' new fields (finishedAt, rid, result...), each a scan of the
    -- whole hash to find it absent, then scan a smaller one (the two lists share no field).
    redis.call('HDEL', fkey, unpack(del))
    redis.call('HSET', fkey, unpack(set))
  end
  if rm == '' then
    rm = false
  end
  -- Out of its owner's held set and the claim indexes (what `reindex` does for a terminal flow).
  if defer then
    if f[o + 1] then
      appendTo(defer.held, f[o + 1], id)
    end
    appendTo(defer.due, dueKey(f[o + 2], f[o + 3]), id)
    local finished = defer.finished
    finished[#finished + 1] = now
    finished[#finished + 1] = id
    local events = defer.events
    events[#events + 1] = id
    events[#events + 1] = status
  else
    if f[o + 1] then
      redis.call('SREM', heldKey(f[o + 1]), id)
    end
    local due = dueKey(f[o + 2], f[o + 3])
    redis.call('ZREM', due, id)
    dueLeft(due)
    redis.call('ZADD', FINISHED_KEY, now, id)
  end
  if rm then
    redis.call('ZREM', readyKey(f[o + 2], f[o + 3]), rm)
  end
  if not defer then
    publishFinished(id, status)
  end
  local parentId = not plain and f[o + 6]
  if parentId then
    local pkey = flowKey(parentId)
    local parent = redis.call('HMGET', pkey, 'status', 'waits')
    if parent[1] == 'suspended' and waitsOn(parent[2], 'child', 'flowId', id) then
      wake(pkey, parentId, now)
      return true
    end
  end
  return false
end
