-- True when the JSON list of waits has one of `kind` whose `field` equals `value`.
-- Unreadable waits count as waiting on it: a spurious wake costs one run, while
-- an error here would stop the signal or the child's finish that asked.
local function waitsOn(waits, kind, field, value)
  if not waits or waits == '[]' then
    return false
  end
  local ok, list = pcall(cjson.decode, waits)
  if not ok or type(list) ~= 'table' then
    return true
  end
  for _, wait in ipairs(list) do
    if type(wait) == 'table' and wait.kind == kind and wait[field] == value then
      return true
    end
  end
  return false
end
