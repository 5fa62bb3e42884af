--[[
  Reads a store's partition count, recording it when the prefix is new. A
  prefix with keys from before partitions existed (any of its one-partition
  index keys) has one partition.

  Input:
    KEYS[1]  the store's metadata hash ("{prefix}:meta")

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  the partition count for a new store

  Output:
    { partitions, 1 when this call recorded it else 0 }
]]
local stored = redis.call('HGET', KEYS[1], 'partitions')
if stored then
  return { tonumber(stored), 0 }
end
local count = tonumber(ARGV[2])
for _, name in ipairs({ 'created', 'finished', 'workers', 'workers:seen', 'schedules' }) do
  if redis.call('EXISTS', ARGV[1] .. name) == 1 then
    count = 1
    break
  end
end
redis.call('HSET', KEYS[1], 'partitions', count, 'layout', 1)
return { count, 1 }
