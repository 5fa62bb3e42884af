--[[
  Applies a batch of writes (records, suspensions, finishes of any flows) in
  one call, each exactly as its own script would, in order. A write that fails
  (a stale token) fails alone: its error is its outcome, the others go on.

  Input:
    KEYS[1]  the flow hash of the first write (routes the call to the store's slot)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  number of writes
    then per write: its kind, its field count n, and n fields:
      "r" flow id, token, position, record JSON          (as record-operation)
      "f" request id, flow id, token, status, result, error, now   (as finish-flow;
          optional ones as the scripts send them: "" or "=" .. value)
      "s" request id, flow id, token, now, waits JSON, earliest timer or "",
          due "1"|"0", name count k, k names, then child ids       (as suspend)

  Output:
    per write, in order: { 1, outcome... } or { 0, error message }:
      "r" → { 1, existed, stored record JSON ("" when it is the one sent), cancelRequested }
      "f" → { 1, "1" | "w" (woke the parent) }
      "s" → { 1, "suspended" | "ready" | "cancelled" }

  Events: those of each write.
]]
--- @include "includes/op-record"
--- @include "includes/op-finish"
--- @include "includes/op-suspend"

-- What this batch read of a flow's hash for its records (FINISH_READ, then "cancel"), so its
-- finish later in the batch reads nothing more: records write only the history hash. A finish
-- or a suspension (of any flow: a finish may wake a parent) forgets everything read.
local read = {}
local READ_FIELDS = { 'cancel', unpack(FINISH_READ) }

local function apply(kind, f)
  if kind == 'r' then
    local id = f[1]
    local fkey = flowKey(id)
    local r = read[id]
    if not r then
      r = redis.call('HMGET', fkey, unpack(READ_FIELDS))
      read[id] = r
    end
    -- r[4], r[5]: status and token (READ_FIELDS order).
    checkFence(r[4], r[5], id, f[2])
    return recordOp(fkey, histKey(id), id, f[2], f[3], f[4], r[1] == '1')
  elseif kind == 'f' then
    local id = f[2]
    local r = read[id]
    local pre = nil
    if r then
      pre = {}
      for i = 2, #READ_FIELDS do
        pre[i - 1] = r[i]
      end
    end
    read = {}
    return { finishOp(flowKey(id), f[1], id, f[3], f[4], opt(f[5]), opt(f[6]), f[7], pre) }
  end
  read = {}
  local id = f[2]
  local nNames = tonumber(f[8])
  local names, children = {}, {}
  for i = 9, 8 + nNames do
    names[#names + 1] = f[i]
  end
  for i = 9 + nNames, #f do
    children[#children + 1] = f[i]
  end
  return { suspendOp(flowKey(id), sigIndexKey(id), f[1], id, f[3], f[4], f[5], opt(f[6]), f[7], names, children) }
end

local out = {}
local at = 3
for w = 1, tonumber(ARGV[2]) do
  local kind, n = ARGV[at], tonumber(ARGV[at + 1])
  local fields = {}
  for i = 1, n do
    fields[i] = ARGV[at + 1 + i]
  end
  at = at + 2 + n
  local ok, result = pcall(apply, kind, fields)
  if ok then
    table.insert(result, 1, 1)
    out[w] = result
  else
    out[w] = { 0, type(result) == 'table' and result.err or tostring(result) }
  end
end
return out
