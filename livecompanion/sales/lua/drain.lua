-- Read a batch of a sale's log for the drainer, in one round trip and one reply to parse.
-- Takes or renews the drain lease first (one drainer per sale at a time, any instance).
-- KEYS: 1 lease, 2 meta, 3 log.  ARGV: 1 holder, 2 lease ms, 3 first id (exclusive; '-' = from the
-- start), 4 max entries.
-- Reply: 'held <ms>' if another instance holds the lease (<ms>: until it lapses unless renewed);
-- else the sale's epoch ('' when Redis does not hold the sale), a newline, then each entry as
-- "<id> <field> <byte length of value> <value>", one after the other with no separator (values may
-- hold anything, so they are framed by their length).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 'held ' .. redis.call('PTTL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then return '\n' end
local start = ARGV[3]
if start ~= '-' then start = '(' .. start end
local entries = redis.call('XRANGE', KEYS[3], start, '+', 'COUNT', ARGV[4])
local out = {epoch, '\n'}
for _, e in ipairs(entries) do
  local f = e[2]
  out[#out + 1] = e[1] .. ' ' .. f[1] .. ' ' .. #f[2] .. ' ' .. f[2]
end
return table.concat(out)
