-- The lease to drain one sale's log into the record (one drainer at a time, any instance).
-- KEYS: 1 lease.  ARGV: 1 holder, 2 lease ms (0: give it up if we hold it).
-- Reply: 1 if the caller holds it now (or gave it up), 0 if another instance holds it.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then
  if holder then redis.call('DEL', KEYS[1]) end
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
