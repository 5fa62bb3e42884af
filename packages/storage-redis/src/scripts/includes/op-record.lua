-- Writing a history record (record-operation, apply-writes).
--- @include "fence"
--- @include "history"

-- Writes `json` at `position` of the history hash unless a final record is there already: first
-- write wins; a waiting record may be replaced. Returns nil when `json` was stored, else the
-- final record found there (JSON). The rule of every history write, lone or batched.
local function writeRecord(hkey, position, json)
  -- The common case, a new position, in one call.
  if redis.call('HSETNX', hkey, position, json) == 1 then
    return nil
  end
  local existing = redis.call('HGET', hkey, position)
  if existing and not isWaiting(existing) then
    return existing
  end
  redis.call('HSET', hkey, position, json)
  return nil
end

-- Writes `json` at `position` as writeRecord does, after the fence. Returns
-- { existed: 0 | 1, the stored record JSON, cancelRequested: 0 | 1 }; the stored
-- JSON is "" when it is `json` itself (the caller has it: nothing sent back). `cancelled`: a
-- caller that checked the fence itself passes what it found of the cancel flag (true or false).
local function recordOp(fkey, hkey, id, token, position, json, cancelled)
  if cancelled == nil then
    cancelled = fence(fkey, id, token)
  end
  local cancel = 0
  if cancelled then
    cancel = 1
  end
  local existing = writeRecord(hkey, position, json)
  if existing then
    return { 1, existing, cancel }
  end
  return { 0, '', cancel }
end
