-- An order event moves the claim with its order_id (sales/rules.py: order_move).
-- cancelled: claimed|paid -> released (units back to stock and to the user's limit);
-- paid: claimed -> paid, released -> late_paid (flagged; the units stay sold to whoever has them).
-- KEYS: 1 meta, 2 held, 3 orders, 4 log.  ARGV: 1 order_id, 2 order status
-- Reply: {move, rank, qty, bonus, status, sold, stock, user}; move 'unchanged' | 'no_claim' | 'nosale'
local m = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'next_rank')
local stock = tonumber(m[1])
if not stock then return {'nosale'} end
local sold = tonumber(m[2])
local prev = redis.call('HGET', KEYS[3], ARGV[1])
if not prev then return {'no_claim'} end
local rank, qty, bonus, status, claimed, entry, user = string.match(prev, '^(%d+) (%d+) (%d) ([%a_]+) (%d+) ([%d%-]+) (.*)$')
local new = nil
if ARGV[2] == 'cancelled' and (status == 'claimed' or status == 'paid') then new = 'released'
elseif ARGV[2] == 'paid' and status == 'claimed' then new = 'paid'
elseif ARGV[2] == 'paid' and status == 'released' then new = 'late_paid' end
if not new then return {'unchanged', tonumber(rank), tonumber(qty), tonumber(bonus), status, sold, stock, user} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if new == 'released' then sold = sold - tonumber(qty) end
-- The claim's new status and its log entry first, the units back to stock last: Redis does not
-- undo a script's writes if a later command fails, and this order makes such a failure withhold
-- the units, never sell them twice.
redis.call('HSET', KEYS[3], ARGV[1], rank .. ' ' .. qty .. ' ' .. bonus .. ' ' .. new .. ' ' .. claimed .. ' ' .. entry .. ' ' .. user)
redis.call('XADD', KEYS[4], '*', 'm', rank .. ' ' .. new .. ' ' .. now .. ' ' .. sold .. ' ' .. m[3])
if new == 'released' then
  redis.call('HINCRBY', KEYS[2], user, -tonumber(qty))
  redis.call('HSET', KEYS[1], 'sold', sold)
end
return {new, tonumber(rank), tonumber(qty), tonumber(bonus), new, sold, stock, user}
