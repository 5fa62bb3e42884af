-- Wakes a suspended flow: a waited signal arrived or a waited child finished.
--- @include "index"
--- @include "events"

-- The flow stays `suspended` with its waits (a claim clears them) and becomes
-- claimable at `now`.
local function wake(fkey, id, now)
  redis.call('HSET', fkey, 'runAt', now, 'updatedAt', now)
  reindex(fkey, id)
  publishReady(redis.call('HGET', fkey, 'queue'), nil, fkey, id)
end
