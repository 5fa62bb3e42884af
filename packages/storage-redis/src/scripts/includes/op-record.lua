-- Writing a history record (record-operation, apply-writes).
--- @include "fence"
--- @include "history"

-- Writes `json` at `position` unless a final record is there already (first
-- write wins; a waiting record may be replaced). Returns
-- { existed: 0 | 1, the stored record JSON, cancelRequested: 0 | 1 }.
local function recordOp(fkey, hkey, id, token, position, json)
  local cancel = 0
  if fence(fkey, id, token) then
    cancel = 1
  end
  local existing = redis.call('HGET', hkey, position)
  if existing and not isWaiting(existing) then
    return { 1, existing, cancel }
  end
  redis.call('HSET', hkey, position, json)
  return { 0, json, cancel }
end
