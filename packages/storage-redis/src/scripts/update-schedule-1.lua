--[[
  Compare-and-set of a schedule: replaces its state only while its revision
  is the one the caller read, and bumps the revision.

  Input:
    KEYS[1]  the schedule's hash (state, revision, createdAt, updatedAt)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  the revision the caller read
    ARGV[3]  the new state as JSON (opaque to this script)
    ARGV[4]  now (ms)

  Output:
    { state, revision, createdAt, updatedAt } after the update, or false when
    the schedule does not exist or its revision moved on
]]
local hash = KEYS[1]
local revision = redis.call('HGET', hash, 'revision')
if not revision or revision ~= ARGV[2] then
  return false
end
local next = redis.call('HINCRBY', hash, 'revision', 1)
redis.call('HSET', hash, 'state', ARGV[3], 'updatedAt', ARGV[4])
local stored = redis.call('HMGET', hash, 'state', 'revision', 'createdAt', 'updatedAt')
return { stored[1], tostring(next), stored[3], stored[4] }
