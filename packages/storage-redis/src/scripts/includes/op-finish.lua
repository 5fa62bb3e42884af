-- Finishing a flow (finish-flow, apply-writes).
--- @include "args"
--- @include "keys"
--- @include "fence"
--- @include "replay"
--- @include "finish"

-- What finishOp reads of the flow hash, in this order (FINISH_FIELDS from place 3).
local FINISH_READ = { 'status', 'token', unpack(FINISH_FIELDS) }
-- What it reads of a plain flow (finish's `plain`): FINISH_READ's first six, then "cancel" in
-- the place of "error" (PLAIN_CANCEL), which it then holds (plainError).
local FINISH_PLAIN = { 'status', 'token', 'owner', 'queue', 'type', 'rm', 'cancel' }
local PLAIN_CANCEL = 7

-- A plain flow's read (FINISH_PLAIN) made into FINISH_READ's first seven: "cancel" replaced by
-- the flow's error. A plain flow had no error when claimed, and only a cancel request (which
-- sets "cancel" too) writes one while its lease holds: without one there is none to read.
local function plainError(fkey, f)
  if f[PLAIN_CANCEL] == '1' then
    f[PLAIN_CANCEL] = redis.call('HGET', fkey, 'error') or false
  else
    f[PLAIN_CANCEL] = false
  end
end

-- Moves the running flow to `status`, releasing the lease and waking a waiting
-- parent. A resent copy of request `rid` answers the first reply. Returns "1",
-- or "w" when it woke the parent. `pre`: FINISH_READ (FINISH_PLAIN when `plain`) as a caller
-- read it already; `defer`, `plain`: as finish takes them.
local function finishOp(fkey, rid, id, token, status, result, err, now, pre, defer, plain)
  -- One read for the fence and the finish (what fence and finish would read one after the other).
  local f = pre or redis.call('HMGET', fkey, unpack(plain and FINISH_PLAIN or FINISH_READ))
  -- A flow running under this token has seen no copy of this request (a finish leaves its flow
  -- terminal): the last request id is read only when the fence fails (a read of a field the
  -- hash lacks, as "rr" is until a flow first suspends or finishes, scans the whole hash).
  if f[1] ~= 'running' or f[2] ~= token then
    local reply = replayed(fkey, rid)
    if reply then
      return reply
    end
    checkFence(f[1], f[2], id, token)
  end
  if plain then
    plainError(fkey, f)
  end
  -- Without a parent the reply is known before the write, which then remembers it too.
  if plain or not f[8] then
    finish(fkey, id, status, result, err, now, f, 3, rid, defer, plain)
    return '1'
  end
  local reply = '1'
  if finish(fkey, id, status, result, err, now, f, 3, nil, defer) then
    reply = 'w'
  end
  remember(fkey, rid, reply)
  return reply
end
