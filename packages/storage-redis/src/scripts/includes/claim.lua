-- Takes a flow under a new lease: status running, token + 1, runs + 1,
-- waits cleared, filed in its due set at the lease expiry. Taking over an
-- expired lease (the flow is still running) counts that run as abandoned.
--- @include "keys"
--- @include "index"
--- @include "owner"
--- @include "lists"

-- A claimed flow's fields by place in claimRead's list. Its first CLAIMED_SENT are the claim's
-- reply for the flow, in the order of CLAIMED_FIELDS (mirror of src/internal/claimed.ts: change
-- both together); status, owner and waits, read for the claim, and what it writes from its
-- caller's arguments (lease, waits, updatedAt) are not sent: the caller knows them.
local F_TOKEN, F_RUNS, F_QUEUE, F_TYPE, F_RUNAT, F_ID = 1, 2, 3, 4, 5, 6
local F_ABANDONS, F_RM, F_ADM, F_PRIORITY, F_ORD = 10, 11, 12, 13, 14
local F_STATUS, F_OWNER, F_WAITS = 27, 28, 29
local F_CKEY, F_CLIM, F_TAG = 17, 18, 20
local CLAIMED_SENT = 26
-- The fields every claimed flow has end at this place, the ones most lack come after; the reply
-- ends at the last field the flow has (each element of a script's reply costs Redis a
-- conversion and the client a parse; "rm", always sent as none, and the usual abandons, adm,
-- priority and ord nowhere among the first, were five such a flow).
local CLAIMED_ALWAYS = 9
local CLAIMED_AT = {}
for i, name in ipairs({
  'token', 'runs', 'queue', 'type', 'runAt', 'id', 'input', 'cancel', 'createdAt',
  'abandons', 'rm', 'adm', 'priority', 'ord',
  'parentId', 'trace', 'ckey', 'clim', 'dbk', 'tag', 'lastError', 'progress', 'progressAt', 'result',
  'error', 'finishedAt',
  'status', 'owner', 'waits',
}) do
  CLAIMED_AT[name] = i
end

-- The flow's fields by CLAIMED_AT place (false for those it lacks; `read` marks the list as
-- this function's: the place of the last field of the reply the flow has, see lastSent), from
-- one read of the whole hash: one scan of it (an HMGET scans the hash
-- once per field, most of them absent), and no field names sent back. A claim that read the
-- fields it needs, then the whole hash after its write, turned two replies into Lua and the
-- second (every field's name and value) back into RESP: some 40 strings per flow at several
-- hundred instructions each, and as many for the client to parse.
-- `last` raised to `j` when the field at place `j` is one of the reply's that the claim sends as
-- it read it ("rm" goes as none, "adm" as the claim's).
local function lastSent(last, j)
  if j > last and j <= CLAIMED_SENT and j ~= F_RM and j ~= F_ADM then
    return j
  end
  return last
end

local function claimRead(fkey)
  local h = redis.call('HGETALL', fkey)
  local f = {
    false, false, false, false, false, false, false, false, false, false, false, false, false, false,
    false, false, false, false, false, false, false, false, false, false, false, false, false, false,
    false, read = true,
  }
  local last = CLAIMED_ALWAYS
  for i = 1, #h, 2 do
    local j = CLAIMED_AT[h[i]]
    if j then
      f[j] = h[i + 1]
      last = lastSent(last, j)
    end
  end
  f.read = last
  return f
end

-- What a claim reads first of a flow in a ready set that it did not move there (claimReadNew),
-- the first fields of a hash as create writes it: "opts" (includes/create.lua) is the names of the
-- optional fields the flow was created with ("" for none), written by every create since it came.
-- Not "id" (the caller knows it) nor "waits" ("[]" until a run suspends). Each field costs a scan
-- of the hash from its head to it (Redis 7.0's lpFind: ~100 instructions a field passed).
local NEW_READ = { 'rm', 'status', 'token', 'cancel', 'queue', 'type', 'runs', 'opts', 'runAt', 'input', 'createdAt' }

-- claimRead's list for the flow `id` never claimed, from an HMGET of NEW_READ (and one of its optional
-- fields, if it has any) instead of the whole hash: a new flow (runs "0", pending, no cancel
-- request) has no field that a claim, a run or a cancel request adds (owner, lease, abandons,
-- adm, lastError, progress, result, error...), so its hash is the create's fields, which "opts"
-- completes. HGETALL turned every field's name and value into a Lua string (some 28 for a plain
-- flow, ~900 instructions each with the reply's conversion). A hash without "opts" (written
-- before it, or by an import) or a flow claimed before is read in full (claimRead), after this
-- read: what the caller is told is the same.
local function claimReadNew(fkey, id)
  local h = redis.call('HMGET', fkey, unpack(NEW_READ))
  local opts = h[8]
  if not opts or h[7] ~= '0' or h[2] ~= 'pending' or h[4] ~= '0' then
    return claimRead(fkey)
  end
  -- By CLAIMED_AT place: token, runs, queue, type, runAt, id, input, cancel, createdAt, then
  -- none of abandons .. finishedAt but rm, then status, owner (none), waits.
  local f = {
    h[3], h[7], h[5], h[6], h[9], id, h[10], h[4], h[11], false, h[1], false, false, false,
    false, false, false, false, false, false, false, false, false, false, false, false, h[2], false,
    '[]', read = CLAIMED_ALWAYS,
  }
  if opts ~= '' then
    local names = {}
    for name in string.gmatch(opts, '%S+') do
      names[#names + 1] = name
    end
    local values = redis.call('HMGET', fkey, unpack(names))
    for i, name in ipairs(names) do
      local j = CLAIMED_AT[name]
      if j then
        f[j] = values[i]
        f.read = lastSent(f.read, j)
      end
    end
  end
  return f
end

-- `adm`: the queue whose limits the home partition admitted this run under (a flow outside
-- the home partition, see claim-1.lua), kept in the hash's "adm" field while it runs.
-- Returns the claimed flow: when its fields came from claimRead (the caller's `pre`, or read
-- here), the values of CLAIMED_FIELDS (false for one it lacks, the trailing ones it lacks left
-- out); else the hash as a flat field/value list.

-- The flat field/value list `flat` with the fields of `set` written over it (new ones last,
-- as HSET puts them): a hash the caller knows in full, without reading it back.
local function withSet(flat, set)
  local out, at = {}, {}
  for i = 1, #flat, 2 do
    out[i], out[i + 1] = flat[i], flat[i + 1]
    at[flat[i]] = i + 1
  end
  for i = 1, #set, 2 do
    local j = at[set[i]]
    if j then
      out[j] = set[i + 1]
    else
      out[#out + 1] = set[i]
      out[#out + 1] = set[i + 1]
    end
  end
  return out
end

-- The count after `count` (a decimal string, none for 0) as a string: "1" for a flow's first
-- claim without string.format (parsing its format and printing cost some 800 instructions).
local function countAfter(count)
  if count == '0' or not count then
    return '1'
  end
  return string.format('%d', (tonumber(count) or 0) + 1)
end

-- Index writes of claims that a call makes once for all the flows it claims (claimDeferred,
-- then flushClaims): a call to Redis per flow and index costs a few thousand instructions beyond
-- the change itself. held: ids for the worker's held set; ready: ready set key -> members to
-- drop; due: due set key -> score/member pairs to add.
local function claimDeferred()
  return { held = {}, ready = {}, due = {} }
end

-- Makes the index writes `d` (claimDeferred) holds for `worker`'s claims.
local function flushClaims(d, worker)
  if #d.held > 0 then
    redis.call('SADD', heldKey(worker), unpack(d.held))
  end
  for ready, members in pairs(d.ready) do
    redis.call('ZREM', ready, unpack(members))
  end
  for due, entries in pairs(d.due) do
    -- The pin first: a due set still a listpack becomes a skip list before the leases go in.
    redis.call('ZADD', due, '+inf', DUE_PIN, unpack(entries))
  end
end

-- `hash`: the flow's whole hash as a flat list, when the caller wrote it in this call
-- (create-flow): the reply is then made from it, not read back (HGETALL). `defer`: a
-- claimDeferred() its caller flushes once it has made its last read of the claimed flows'
-- indexes (the worker's held set, ready and due sets).
local function claimFlow(fkey, id, worker, leaseUntil, now, adm, pre, hash, defer)
  -- One read and one write of the hash (what setOwner and reindex do, for a claim). `pre`: the
  -- fields a caller read, by F_ place (claimRead's list, or the ones claimFlow reads: status,
  -- token, runs, abandons, owner, queue, type, rm, adm), with the flow's member in its ready
  -- set as "rm" and `rmPending` set when this call moved it there (not written to the hash:
  -- the claim writes it only for the flows it leaves).
  local f = pre or claimRead(fkey)
  -- Counts as strings made with %d: a number handed to redis.call goes through the
  -- floating-point printer ("%.14g"), several times the cost.
  local token = countAfter(f[F_TOKEN])
  local runs = countAfter(f[F_RUNS])
  local abandons = f[F_ABANDONS]
  -- "rm" emptied (the flow leaves its ready set), unless this call moved it there.
  local clearRm = f[F_RM] and f[F_RM] ~= '' and not (pre and pre.rmPending)
  local delAdm = not adm and f[F_ADM] and true or false
  local set
  if not hash and not adm and f[F_WAITS] == '[]' and f[F_STATUS] ~= 'running' then
    -- The usual claim (a pending or woken flow, no admission): the write below with its
    -- arguments written out rather than a list built and unpacked.
    if clearRm then
      redis.call('HSET', fkey, 'rm', '', 'status', 'running', 'lease', leaseUntil, 'updatedAt', now, 'token', token,
        'runs', runs, 'owner', worker)
    else
      redis.call('HSET', fkey, 'status', 'running', 'lease', leaseUntil, 'updatedAt', now, 'token', token,
        'runs', runs, 'owner', worker)
    end
  else
    -- Made with room for the fields it may get (the trailing nils): a table that outgrows the
    -- size its constructor gave it is rehashed.
    set = {
      'status', 'running', 'lease', leaseUntil, 'updatedAt', now, 'token', token, 'runs', runs, 'owner', worker,
      nil, nil, nil, nil,
    }
    -- Waits cleared, unless they are already (a pending flow's, nearly always): a field written
    -- is a scan of the hash to find it.
    if f[F_WAITS] ~= '[]' then
      set[#set + 1] = 'waits'
      set[#set + 1] = '[]'
    end
    if f[F_STATUS] == 'running' then
      abandons = string.format('%d', (tonumber(abandons) or 0) + 1)
      set[#set + 1] = 'abandons'
      set[#set + 1] = abandons
    end
    if clearRm then
      set[#set + 1] = 'rm'
      set[#set + 1] = ''
    end
    if adm then
      set[#set + 1] = 'adm'
      set[#set + 1] = adm
    end
    redis.call('HSET', fkey, unpack(set))
  end
  local owner = f[F_OWNER]
  if owner and owner ~= worker then
    redis.call('SREM', heldKey(owner), id)
  end
  local queue, ftype = f[F_QUEUE], f[F_TYPE]
  -- "rm": the flow's member in its ready set, "" (or no field, in a hash written before "" was
  -- kept) for none. A claim empties it in its HSET (above) rather than deleting it: an HDEL is one more
  -- call, and a field the hash lacks costs each later read of it a scan of the whole hash.
  local rm = f[F_RM]
  if rm == '' then
    rm = false
  end
  if delAdm then
    redis.call('HDEL', fkey, 'adm')
  end
  -- Held by the worker, out of its ready set, due again at the lease expiry (ZADD moves it if
  -- it is there already).
  if defer then
    local held = defer.held
    held[#held + 1] = id
    if rm then
      appendTo(defer.ready, readyKey(queue, ftype), rm)
    end
    appendTo(defer.due, dueKey(queue, ftype), leaseUntil, id)
  else
    redis.call('SADD', heldKey(worker), id)
    if rm then
      redis.call('ZREM', readyKey(queue, ftype), rm)
    end
    redis.call('ZADD', dueKey(queue, ftype), leaseUntil, id)
  end
  if hash and not delAdm then
    return withSet(hash, set)
  end
  local last = f.read
  if last then
    -- The reply: CLAIMED_FIELDS as the claim left them, up to the last one the flow has (a new
    -- list: cutting this one short was a loop over every place past it).
    f[F_TOKEN], f[F_RUNS], f[F_ABANDONS], f[F_RM], f[F_ADM], f[F_ID] = token, runs, abandons, false, adm or false, id
    if abandons then
      last = lastSent(last, F_ABANDONS)
    end
    if adm and last < F_ADM then
      last = F_ADM
    end
    return { unpack(f, 1, last) }
  end
  return redis.call('HGETALL', fkey)
end
