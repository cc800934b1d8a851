-- Put a sale into Redis from the record, unless it is there already (another instance was first).
-- KEYS: 1 meta, 2 held, 3 orders, 4 log, 5 order index of the stream
-- ARGV: 1 epoch, 2 stock, 3 sold, 4 next_rank, 5 first_n (0 = none), 6 limit, 7 ends_ms,
--       8 stopped_ms ('' = none), 9 sold_out_ms ('' = none), 10 expire at (ms), 11 sale id,
--       12 number of held pairs, then user, units pairs, then order_id, packed claim pairs
-- Reply: the epoch that holds the sale now (ours if we loaded it).
local cur = redis.call('HGET', KEYS[1], 'epoch')
if cur then return cur end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'stock', ARGV[2], 'sold', ARGV[3], 'next_rank', ARGV[4],
  'first_n', ARGV[5], 'limit', ARGV[6], 'ends_ms', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'stopped_ms', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'sold_out_ms', ARGV[9]) end
-- Empty fields keep the hashes in existence, so they carry the expiry set below.
redis.call('HSET', KEYS[2], '', 0)
redis.call('HSET', KEYS[3], '', '')
redis.call('HSET', KEYS[5], '', '')
local i = 13
for _ = 1, tonumber(ARGV[12]) do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i < #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSETNX', KEYS[5], ARGV[i], ARGV[11])
  i = i + 2
end
redis.call('XADD', KEYS[4], '*', 'load', ARGV[1])
local at = tonumber(ARGV[10])
for k = 1, 4 do redis.call('PEXPIREAT', KEYS[k], at) end
-- The order index is shared by the stream's sales: it lives as long as the longest-lived of them.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = redis.call('PTTL', KEYS[5])
if ttl < 0 or now + ttl < at then redis.call('PEXPIREAT', KEYS[5], at) end
return ARGV[1]
