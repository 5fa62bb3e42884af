--[[
  Deletes a schedule (the flows it started stay).

  Input:
    KEYS[1]  schedule index sorted set
    KEYS[2]  the schedule's hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  schedule id

  Output:
    1 when it existed, else 0
]]
redis.call('ZREM', KEYS[1], ARGV[2])
return redis.call('DEL', KEYS[2])
