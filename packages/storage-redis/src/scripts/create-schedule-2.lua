--[[
  Creates a schedule unless one has its id (never two with one id).

  Input:
    KEYS[1]  schedule index sorted set (score 0, member id: listed in id order)
    KEYS[2]  the schedule's hash (state, revision, createdAt, updatedAt)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  schedule id
    ARGV[3]  the state as JSON (definition and cursor; opaque to this script)
    ARGV[4]  now (ms)

  Output:
    { created (1 or 0), state, revision, createdAt, updatedAt } of the stored schedule
]]
local index, hash = KEYS[1], KEYS[2]
local created = 0
if redis.call('EXISTS', hash) == 0 then
  redis.call('HSET', hash, 'state', ARGV[3], 'revision', 1, 'createdAt', ARGV[4], 'updatedAt', ARGV[4])
  redis.call('ZADD', index, 0, ARGV[2])
  created = 1
end
local stored = redis.call('HMGET', hash, 'state', 'revision', 'createdAt', 'updatedAt')
return { created, stored[1], stored[2], stored[3], stored[4] }
