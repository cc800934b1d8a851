-- The operator stops a sale: claims are refused from now on (410).
-- KEYS: 1 meta, 2 log.  Reply: stop time (ms) if this call stopped it, 0 if it had already ended,
-- -1 if the sale is not loaded.
local m = redis.call('HMGET', KEYS[1], 'ends_ms', 'stopped_ms')
if not m[1] then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if m[2] or now >= tonumber(m[1]) then return 0 end
redis.call('HSET', KEYS[1], 'stopped_ms', now)
redis.call('XADD', KEYS[2], '*', 's', now)
return now
