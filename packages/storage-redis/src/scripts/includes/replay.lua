-- Request ids make a state change safe to send twice. ioredis resends a
-- command that was in flight when the connection dropped; if the first copy
-- had run, the second finds its own request id and returns the first reply
-- instead of failing the fence or buffering a signal twice.

--
-- The last request and its reply are one field, "rr" = rid .. " " .. reply (a request id has no
-- space; remembered): one field fewer for a finish to add to the hash and a replay check to
-- look for. Hashes written before keep "rid" and "rep" from their last such change; no request
-- of this version has their id, so they are never read again.

-- The value of "rr" for request `rid` and its `reply`.
local function remembered(rid, reply)
  return rid .. ' ' .. reply
end

-- The stored reply when the flow's last change was request `rid`, else false.
local function replayed(fkey, rid)
  local rr = redis.call('HGET', fkey, 'rr')
  if rr and string.sub(rr, 1, #rid + 1) == rid .. ' ' then
    return string.sub(rr, #rid + 2)
  end
  return false
end

local function remember(fkey, rid, reply)
  redis.call('HSET', fkey, 'rr', remembered(rid, reply))
end
