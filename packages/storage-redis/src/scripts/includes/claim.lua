-- Takes a flow under a new lease: status running, token + 1, runs + 1,
-- waits cleared, filed in its due set at the lease expiry. Taking over an
-- expired lease (the flow is still running) counts that run as abandoned.
--- @include "keys"
--- @include "index"
--- @include "owner"

-- The fields claimFlow reads, in its order (a caller that read them already passes them as `pre`).
local CLAIM_FIELDS = { 'status', 'token', 'runs', 'abandons', 'owner', 'queue', 'type', 'rm', 'adm' }

-- A claimed flow's fields, in the order of the claim's reply (CLAIMED_FIELDS, mirror of
-- src/internal/claimed.ts: change both together): CLAIM_FIELDS, what a claim's promotion reads
-- (priority, runAt, ord), the rest of what every claimed flow has, then the fields most flows
-- lack. Field name -> its place.
local CLAIMED_AT = {}
for i, name in ipairs({
  'status', 'token', 'runs', 'abandons', 'owner', 'queue', 'type', 'rm', 'adm',
  'priority', 'runAt', 'ord', 'id', 'input', 'cancel', 'createdAt', 'lease', 'waits', 'updatedAt',
  'parentId', 'trace', 'ckey', 'clim', 'dbk', 'tag', 'lastError', 'progress', 'progressAt', 'result',
  'error', 'finishedAt',
}) do
  CLAIMED_AT[name] = i
end

-- The flow's fields by CLAIMED_AT place (false for those it lacks; `read` marks the list as
-- this function's), from one read of the whole hash: one scan of it (an HMGET scans the hash
-- once per field, most of them absent), and no field names sent back. A claim that read
-- CLAIM_FIELDS, then the whole hash after its write, turned two replies into Lua and the second
-- (every field's name and value) back into RESP: some 40 strings per flow at several hundred
-- instructions each.
local function claimRead(fkey)
  local h = redis.call('HGETALL', fkey)
  local f = {
    false, false, false, false, false, false, false, false, false, false, false, false, false, false,
    false, false, false, false, false, false, false, false, false, false, false, false, false, false,
    false, false, false, read = true,
  }
  for i = 1, #h, 2 do
    local j = CLAIMED_AT[h[i]]
    if j then
      f[j] = h[i + 1]
    end
  end
  return f
end

-- `adm`: the queue whose limits the home partition admitted this run under (a flow outside
-- the home partition, see claim-1.lua), kept in the hash's "adm" field while it runs.
-- Returns the claimed flow: CLAIMED_FIELDS' values (false for none) when its fields came from
-- claimRead (the caller's `pre`, or read here), else the hash as a flat field/value list.

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

-- `hash`: the flow's whole hash as a flat list, when the caller wrote it in this call
-- (create-flow): the reply is then made from it, not read back (HGETALL).
local function claimFlow(fkey, id, worker, leaseUntil, now, adm, pre, hash)
  -- One read and one write of the hash (what setOwner and reindex do, for a claim). `pre`: the
  -- CLAIM_FIELDS (or claimRead's list) a caller read, with the flow's member in its ready set
  -- as "rm" and `rmPending` set when this call moved it there (not written to the hash: the
  -- claim writes it only for the flows it leaves).
  local f = pre or claimRead(fkey)
  -- Counts as strings made with %d: a number handed to redis.call goes through the
  -- floating-point printer ("%.14g"), several times the cost.
  local set = {
    'status', 'running', 'lease', leaseUntil, 'waits', '[]', 'updatedAt', now,
    'token', string.format('%d', (tonumber(f[2]) or 0) + 1),
    'runs', string.format('%d', (tonumber(f[3]) or 0) + 1), 'owner', worker,
  }
  if f[1] == 'running' then
    set[#set + 1] = 'abandons'
    set[#set + 1] = string.format('%d', (tonumber(f[4]) or 0) + 1)
  end
  local del = {}
  if adm then
    set[#set + 1] = 'adm'
    set[#set + 1] = adm
  elseif f[9] then
    del[#del + 1] = 'adm'
  end
  redis.call('HSET', fkey, unpack(set))
  if f[5] and f[5] ~= worker then
    redis.call('SREM', heldKey(f[5]), id)
  end
  redis.call('SADD', heldKey(worker), id)
  if f[8] then
    redis.call('ZREM', readyKey(f[6], f[7]), f[8])
    if not (pre and pre.rmPending) then
      del[#del + 1] = 'rm'
    end
  end
  if #del > 0 then
    redis.call('HDEL', fkey, unpack(del))
  end
  -- Running: due again at the lease expiry (ZADD moves it if it is there already).
  redis.call('ZADD', dueKey(f[6], f[7]), leaseUntil, id)
  if hash and #del == 0 then
    return withSet(hash, set)
  end
  if f.read then
    -- CLAIMED_FIELDS: what claimRead read, with what this claim wrote (f[4] stays unless it
    -- counted an abandoned run).
    f[1], f[2], f[3], f[5], f[8], f[9] = 'running', set[10], set[12], worker, false, adm or false
    if set[15] == 'abandons' then
      f[4] = set[16]
    end
    f[13], f[17], f[18], f[19] = id, leaseUntil, '[]', now
    return f
  end
  return redis.call('HGETALL', fkey)
end
