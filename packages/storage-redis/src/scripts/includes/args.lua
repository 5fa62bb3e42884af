-- Argument conventions shared by every script.
--
-- ARGV[1] is always the key base "{prefix}:" (see keys.lua).
-- An optional string argument is sent as "" when absent and as "=" .. value
-- when present, so an empty value and a missing one stay distinct.
local function opt(arg)
  if arg == nil or arg == '' then
    return nil
  end
  return string.sub(arg, 2)
end

local function isTerminal(status)
  return status == 'completed' or status == 'failed' or status == 'cancelled'
end
