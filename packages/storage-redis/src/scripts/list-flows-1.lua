--[[
  Lists flows newest first (createdAt, then id, both descending), filtered,
  one page after an optional cursor. Read-only.

  Filters other than `since` are applied while walking the created index, so
  one call looks at no more than `budget` entries; when it stops early the
  page may be short and the cursor resumes where it stopped.

  A flow key of the wrong type (damaged, or written by something else) is
  passed over rather than failing the page: one bad key must not hide every
  other flow. Fields of the wrong shape are the reader's to flag.

  Input:
    KEYS[1]  created index (lexicographic: "<createdAt16><id>")

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  cursor createdAt (optional)
    ARGV[3]  cursor id (with ARGV[2])
    ARGV[4]  since: createdAt at or after (optional)
    ARGV[5]  limit
    ARGV[6]  budget: most index entries to look at
    ARGV[7]  statuses, comma-separated (optional; present but empty matches none)
    ARGV[8]  type (optional)
    ARGV[9]  queue (optional)
    ARGV[10] parent id (optional)

  Output:
    { next cursor as "<createdAt16><id>" or "", flow hashes as flat field/value lists... }
]]
--- @include "includes/args"
--- @include "includes/keys"

local CHUNK = 500
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local max = '+'
local cursorAt = opt(ARGV[2])
if cursorAt then
  max = '(' .. orderPart(cursorAt) .. ARGV[3]
end
local min = '-'
local since = opt(ARGV[4])
if since then
  min = '[' .. orderPart(since)
  since = tonumber(since)
end
local statuses = nil
local statusArg = opt(ARGV[7])
if statusArg then
  statuses = {}
  for s in string.gmatch(statusArg, '[^,]+') do
    statuses[s] = true
  end
end
local ftype, queue, parentId = opt(ARGV[8]), opt(ARGV[9]), opt(ARGV[10])

local matches = {}
local scanned = 0
local last = nil
local exhausted = false
while #matches <= limit and scanned < budget and not exhausted do
  local batch = redis.call('ZREVRANGEBYLEX', KEYS[1], max, min, 'LIMIT', 0, CHUNK)
  if #batch < CHUNK then
    exhausted = true
  end
  for i, member in ipairs(batch) do
    scanned = scanned + 1
    last = member
    local f = redis.pcall('HMGET', flowKey(string.sub(member, 17)), 'status', 'type', 'queue', 'parentId', 'createdAt')
    if f.err then
      f = {}
    end
    if f[1]
      and (not statuses or statuses[f[1]])
      and (not ftype or f[2] == ftype)
      and (not queue or f[3] == queue)
      and (not parentId or f[4] == parentId)
      and (not since or (tonumber(f[5]) or 0) >= since) then
      matches[#matches + 1] = member
    end
    if #matches > limit or scanned >= budget then
      if i < #batch then
        exhausted = false
      end
      break
    end
  end
  if last then
    max = '(' .. last
  end
end

local reply = { '' }
local count = math.min(limit, #matches)
if #matches > limit then
  reply[1] = matches[limit]
elseif not exhausted and last then
  reply[1] = last
end
for i = 1, count do
  reply[#reply + 1] = redis.call('HGETALL', flowKey(string.sub(matches[i], 17)))
end
return reply
