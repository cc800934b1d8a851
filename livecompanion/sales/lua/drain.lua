-- Read a batch of a sale's log for the drainer, in one round trip and one reply to parse (the
-- drainer sends one such call a due sale, all of them in one pipeline: drain_pass.py).
-- Takes or renews the drain lease first (one drainer per sale at a time, any instance).
-- KEYS: 1 lease, 2 meta, 3 log.  ARGV: 1 holder, 2 lease ms, 3 first id (exclusive; '-' = from the
-- start), 4 max entries, 5 the epoch of that first id ('' with '-'), 6 wake channel prefix ('' = wake
-- nobody), 7 sale id, 8 stream id.
-- Held: if another instance holds the lease, 'held <ms>' (<ms>: until it lapses unless renewed), and,
-- when ARGV[6] is set (claims wait on the caller), "<sale id> <stream id>" is published to the
-- holder's wake channel, as claim.lua does: the holder then publishes the position it writes.
-- Trim: the record holds the log up to the first id (the caller read it from the record), so what is
-- before it leaves Redis now (one command fewer after each batch written). Not when the epoch differs:
-- the log started over (Redis lost it) and is read from its start.
-- Reply: else the sale's epoch ('' when Redis does not hold the sale), a newline, then each entry as
-- "<id> <field> <byte length of value> <value>", one after the other with no separator (values may
-- hold anything, so they are framed by their length).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6] .. holder, ARGV[7] .. ' ' .. ARGV[8]) end
  return 'held ' .. redis.call('PTTL', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then return '\n' end
local start = ARGV[3]
if start ~= '-' and epoch ~= ARGV[5] then start = '-' end
if start ~= '-' then
  redis.call('XTRIM', KEYS[3], 'MINID', '~', start)
  start = '(' .. start
end
local entries = redis.call('XRANGE', KEYS[3], start, '+', 'COUNT', ARGV[4])
local out = {epoch, '\n'}
for _, e in ipairs(entries) do
  local f = e[2]
  out[#out + 1] = e[1] .. ' ' .. f[1] .. ' ' .. #f[2] .. ' ' .. f[2]
end
return table.concat(out)
