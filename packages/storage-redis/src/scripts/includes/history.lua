-- History records are JSON objects written by the client with "status" as
-- the first member, so a script can tell a `waiting` record (replaceable) from
-- a final one without decoding the whole value.
local function isWaiting(record)
  return string.sub(record, 1, 20) == '{"status":"waiting",'
end
