--[[
  A queue's limits and what counts against them now (flow control,
  includes/control.lua). Drops running-set members that no longer run, as a
  claim would. Runs outside the home partition (admitted) count as running.

  Input:
    KEYS[1]  the store's created index, for routing only (see claim-1.lua)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  queue
    ARGV[3]  now (ms)
    ARGV[4]  concurrency key (optional)

  Output:
    { limits JSON or false, running, running of the key, starts in the rate window }
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/control"

local queue, now, key = ARGV[2], tonumber(ARGV[3]), opt(ARGV[4])
local limitsJson = redis.call('HGET', queuePart('qcfg', queue), 'limits')
local limits = nil
if limitsJson then
  limits = cjson.decode(limitsJson)
end
local run = queuePart('qrun', queue)
local running, keyRunning = remoteRunning(queue, now), 0
for _, id in ipairs(redis.call('SMEMBERS', run)) do
  local f = redis.call('HMGET', flowKey(id), 'status', 'lease', 'ckey', 'queue')
  if f[1] == 'running' and tonumber(f[2] or 0) > now and f[4] == queue then
    running = running + 1
    if key and f[3] == key then
      keyRunning = keyRunning + 1
    end
  else
    redis.call('SREM', run, id)
  end
end
local starts = 0
if limits and limits['rate'] then
  local from = startTime(queue, now) - limits['rate']['periodMs']
  starts = redis.call('ZCOUNT', queuePart('qst', queue), '(' .. string.format('%.0f', from), '+inf')
end
return { limitsJson or false, running, keyRunning, starts }
