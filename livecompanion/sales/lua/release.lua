-- A claim the record cannot hold (the drainer quarantined its log entry) gives its units back:
-- to stock, and to its user's limit; its order_id no longer names a claim.
-- KEYS: 1 meta, 2 held, 3 orders, 4 log.  ARGV: 1 rank, 2 qty, 3 user, 4 order_id ('' for none)
-- Reply: the sale's sold count after the release; false if the sale is not in Redis.
local m = redis.call('HMGET', KEYS[1], 'sold', 'next_rank')
local sold = tonumber(m[1])
if not sold then return false end
if ARGV[4] ~= '' then
  local prev = redis.call('HGET', KEYS[3], ARGV[4])
  if prev and string.match(prev, '^(%d+) ') == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[4]) end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
sold = sold - tonumber(ARGV[2])
-- The log entry first, the units last (as order.lua): a failure in between withholds, never oversells.
redis.call('XADD', KEYS[4], '*', 'm', ARGV[1] .. ' released ' .. now .. ' ' .. sold .. ' ' .. m[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], -tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'sold', sold)
return sold
