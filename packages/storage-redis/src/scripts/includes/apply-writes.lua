-- The body of apply-writes (apply-writes-1.lua, apply-claim-1.lua): each write of the batch as its
-- own script would run it, in order. In apply-claim the finishes' next claims follow it.
--- @include "includes/op-record"
--- @include "includes/op-finish"
--- @include "includes/op-suspend"

-- ARGV as a local: a global is a table lookup by name at each use (some ten per write).
local ARGV = ARGV

-- What this batch read of a flow's hash for its records (FINISH_READ, then "cancel"; of a
-- plain flow FINISH_PLAIN, in `readPlain`), so its finish later in the batch reads nothing more
-- (it takes the list as it is, FINISH_READ being its first fields): records write only the
-- history hash. A finish forgets its flow (and everything read, when it woke a parent); a
-- suspension forgets everything read.
local read, readPlain = {}, {}
-- A record's common outcome (recordOp's { 0, '', 0 }), as `record` returns it.
local COMMON = 1
local READ_FIELDS = { unpack(FINISH_READ) }
READ_FIELDS[#READ_FIELDS + 1] = 'cancel'
local CANCEL_AT = #READ_FIELDS

-- Each write as its own script would run it, its fields given as they are (`fkey`: the flow's
-- hash key, when the caller made it already; `plain`: as finish takes it).
local function record(id, token, position, json, fkey, plain)
  fkey = fkey or flowKey(id)
  local cache, fields, cancelAt = read, READ_FIELDS, CANCEL_AT
  if plain then
    cache, fields, cancelAt = readPlain, FINISH_PLAIN, PLAIN_CANCEL
  end
  local r = cache[id]
  if not r then
    r = redis.call('HMGET', fkey, unpack(fields))
    cache[id] = r
  end
  -- r[1], r[2]: status and token (READ_FIELDS order).
  checkFence(r[1], r[2], id, token)
  -- recordOp's write and answer, the common one (a new record, no cancel request) as COMMON
  -- rather than a table.
  local cancel = 0
  if r[cancelAt] == '1' then
    cancel = 1
  end
  local existing = writeRecord(histKey(id), position, json)
  if existing then
    return { 1, existing, cancel }
  elseif cancel == 1 then
    return { 0, '', 1 }
  end
  return COMMON
end

-- A finish changes its own flow's hash, and another's only when it wakes its parent ("w").
-- The finishes' index writes, made once for the batch at its end (no write of the batch reads
-- a finished flow's held set, due set or finished index entry).
local deferred = finishDeferred()

-- `result` and `err` as the scripts send optional values ("" or "=" .. value), unless `raw`:
-- then `result` is the value itself and there is no error ("C").
local function finishWrite(rid, id, token, status, result, err, now, fkey, plain, raw)
  local cache = plain and readPlain or read
  local pre = cache[id]
  if pre then
    cache[id] = nil
  end
  if raw then
    err = nil
  else
    result, err = opt(result), opt(err)
  end
  local reply = finishOp(fkey or flowKey(id), rid, id, token, status, result, err, now, pre, deferred, plain)
  if reply == 'w' then
    read, readPlain = {}, {}
  end
  return reply
end

local function suspendWrite(at, n)
  read, readPlain = {}, {}
  local id = ARGV[at + 1]
  local nNames = tonumber(ARGV[at + 7])
  local names, children = {}, {}
  for i = at + 8, at + 7 + nNames do
    names[#names + 1] = ARGV[i]
  end
  for i = at + 8 + nNames, at + n - 1 do
    children[#children + 1] = ARGV[i]
  end
  return { suspendOp(flowKey(id), sigIndexKey(id), ARGV[at], id, ARGV[at + 2], ARGV[at + 3], ARGV[at + 4],
    opt(ARGV[at + 5]), ARGV[at + 6], names, children) }
end

-- A write's outcome: 1 for the common one (a new record with no cancel request; a finish that
-- woke no parent), else a row { 1, outcome... }, or { 0, error message } for an error.
local function outcome(ok, result)
  if ok then
    if result == COMMON then
      return 1
    end
    -- A finish answers its reply as a string.
    if result == '1' or (result[1] == 0 and result[2] == '' and result[3] == 0) then
      return 1
    elseif type(result) == 'string' then
      return { 1, result }
    end
    table.insert(result, 1, 1)
    return result
  end
  return { 0, type(result) == 'table' and result.err or tostring(result) }
end

-- A record and then the finish of the same flow ("R", "P") in one pcall: `recorded` holds the
-- record's outcome once it is made, so a failure tells which of the two failed.
local recorded

-- The finish of an "R", "P" or "C" entry at `at` (`kind`: its kind).
local function entryFinish(kind, at, id, token, fkey)
  if kind == 'C' then
    return finishWrite(ARGV[at + 5], id, token, 'completed', ARGV[at + 6], nil, ARGV[at + 7], fkey, true, true)
  end
  return finishWrite(ARGV[at + 5], id, token, ARGV[at + 6], ARGV[at + 7], ARGV[at + 8], ARGV[at + 9], fkey,
    kind == 'P')
end

local function recordThenFinish(kind, at)
  local id, token = ARGV[at + 1], ARGV[at + 2]
  local fkey = flowKey(id)
  recorded = record(id, token, ARGV[at + 3], ARGV[at + 4], fkey, kind ~= 'R')
  return recorded, entryFinish(kind, at, id, token, fkey)
end

local out = {}
local at = 3
local w = 1
local count = tonumber(ARGV[2])
while w <= count do
  local kind = ARGV[at]
  if kind == 'C' or kind == 'P' or kind == 'R' then
    recorded = nil
    local ok, r, f = pcall(recordThenFinish, kind, at)
    if ok then
      if r == COMMON and f == '1' then
        out[w], out[w + 1] = 1, 1
      else
        out[w], out[w + 1] = outcome(true, r), outcome(true, f)
      end
    elseif recorded == nil then
      -- The record failed (its error before any write of its own): the finish runs alone, as it would.
      out[w] = outcome(false, r)
      local id = ARGV[at + 1]
      out[w + 1] = outcome(pcall(entryFinish, kind, at, id, ARGV[at + 2], flowKey(id)))
    else
      out[w], out[w + 1] = outcome(true, recorded), outcome(false, r)
    end
    if kind == 'C' then
      w, at = w + 2, at + 8
    else
      w, at = w + 2, at + 10
    end
  elseif kind == 'r' or kind == 'q' then
    out[w] = outcome(pcall(record, ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], nil, kind == 'q'))
    w, at = w + 1, at + 5
  elseif kind == 'f' or kind == 'F' then
    out[w] = outcome(pcall(finishWrite, ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], ARGV[at + 5],
      ARGV[at + 6], ARGV[at + 7], nil, kind == 'F'))
    w, at = w + 1, at + 8
  else
    local n = tonumber(ARGV[at + 1])
    out[w] = outcome(pcall(suspendWrite, at + 2, n))
    w, at = w + 1, at + 2 + n
  end
end
flushFinishes(deferred)
-- Every outcome the common one: their count alone (each element of a reply costs Redis a
-- conversion and the client a parse).
local result = #out
for i = 1, #out do
  if out[i] ~= 1 then
    result = out
    break
  end
end
-- Past the writes, the finishes' next claims: apply-claim goes on with them after this.
if at > #ARGV then
  return result
end
