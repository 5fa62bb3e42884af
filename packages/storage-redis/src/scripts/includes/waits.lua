-- True when the JSON list of waits has one of `kind` whose `field` equals `value`.
local function waitsOn(waits, kind, field, value)
  if not waits or waits == '[]' then
    return false
  end
  for _, wait in ipairs(cjson.decode(waits)) do
    if wait.kind == kind and wait[field] == value then
      return true
    end
  end
  return false
end
