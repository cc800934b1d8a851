-- Flash-sale claims, each decided and recorded whole inside this one script (sales/rules.py):
-- idempotency lookup, end time (Redis' own clock), the user's units held, stock, rank, record.
-- Nothing is written for a refused claim, so no refusal can leak stock. One call may carry several
-- claims on the same sale (the instance batches concurrent requests): they are decided one after
-- the other, exactly as if each had been its own call.
-- KEYS: 1 meta (hash), 2 held (hash user -> units held), 3 orders (hash order_id -> packed claim),
--       4 log (stream, drained into the record), 5 order index of the stream (hash order_id -> sale),
--       6 the sale's drain lease (the drainer instance holding it)
-- ARGV: 1 sale id, 2 stream id, 3 wake channel prefix ('' = wake nobody), 4 the calling process's own
--       drainer ('' = none), then for each claim: user_id, qty, order_id ('' = none)
-- Wake: when a claim was granted (or replayed, not from the record) and another instance holds the
-- lease, "<sale id> <stream id>" is published on ARGV[3] .. holder, so that drainer writes the claim
-- now rather than with its next claim of its own (its claims come every ~60 ms in a busy sale: the
-- other instance's waited that long), and publishes the position it reaches (drain_pass.py: it
-- publishes only the positions some instance asked for).
-- Reply: one text, the sale's epoch (and, when a holder was woken, " <ms its lease has left>": the
--        caller's drainer need not read the log before then) then one line per claim, "code rank qty bonus status sold stock
--        next_rank log_entry" (0 and '-' where a refusal has none); or 'nosale' when Redis does
--        not hold the sale. (One string: the client parses one reply, not nine per claim.)
-- A claim under an order_id is packed as "rank qty bonus status claimed_ms log_entry user_id".
local PACKED = '^(%d+) (%d+) (%d) ([%a_]+) (%d+) ([%d%-]+) (.*)$'
local m = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'next_rank', 'first_n', 'limit', 'ends_ms', 'stopped_ms',
  'epoch', 'sold_out_ms')
local stock = tonumber(m[1])
if not stock then return 'nosale' end
local sold, next_rank, first_n, limit = tonumber(m[2]), tonumber(m[3]), tonumber(m[4]), tonumber(m[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ended = m[7] or now >= tonumber(m[6])
local sold_out_ms = m[9]
local held, granted_here = {}, {}
local wake = false  -- a claim granted or replayed here waits for the record
local out = {}
local function answer(code, rank, qty, bonus, status, entry)
  out[#out + 1] = code .. ' ' .. rank .. ' ' .. qty .. ' ' .. bonus .. ' ' .. status .. ' ' .. sold .. ' ' ..
    stock .. ' ' .. next_rank .. ' ' .. entry
end
for i = 5, #ARGV, 3 do
  local user, qty, order = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local prev = nil
  if order ~= '' then prev = granted_here[order] or redis.call('HGET', KEYS[3], order) end
  if prev then
    local rank, pqty, bonus, status, _, entry, puser = string.match(prev, PACKED)
    local code = 'replayed'
    if puser ~= user or tonumber(pqty) ~= qty then code = 'order_id_conflict' end
    if code == 'replayed' and entry ~= '0-0' then wake = true end  -- its caller waits for the record too
    answer(code, tonumber(rank), tonumber(pqty), tonumber(bonus), status, entry)
  elseif ended then
    answer('ended', 0, 0, 0, '-', '-')
  else
    local h = held[user]
    if h == nil then h = tonumber(redis.call('HGET', KEYS[2], user) or '0') end
    if h + qty > limit then
      answer('limit_reached', 0, 0, 0, '-', '-')
    elseif sold + qty > stock then
      answer('sold_out', 0, 0, 0, '-', '-')
    else
      local rank = next_rank
      sold = sold + qty
      next_rank = next_rank + qty
      held[user] = h + qty
      local bonus = 0
      if first_n > 0 and rank <= first_n then bonus = 1 end
      -- Stock first: Redis does not undo a script's writes if a later command fails, and this
      -- order makes any such failure withhold the units, never sell them twice.
      redis.call('HSET', KEYS[1], 'sold', sold, 'next_rank', next_rank)
      if sold == stock and not sold_out_ms then
        sold_out_ms = now
        redis.call('HSET', KEYS[1], 'sold_out_ms', now)
      end
      redis.call('HINCRBY', KEYS[2], user, qty)
      -- One field per entry (drain_write.py parses it): "rank qty bonus t sold next #order order user"
      local entry = redis.call('XADD', KEYS[4], '*', 'c', rank .. ' ' .. qty .. ' ' .. bonus .. ' ' .. now .. ' ' ..
        sold .. ' ' .. next_rank .. ' ' .. #order .. ' ' .. order .. ' ' .. user)
      if order ~= '' then
        local packed = rank .. ' ' .. qty .. ' ' .. bonus .. ' claimed ' .. now .. ' ' .. entry .. ' ' .. user
        redis.call('HSET', KEYS[3], order, packed)
        redis.call('HSETNX', KEYS[5], order, ARGV[1])
        granted_here[order] = packed
      end
      wake = true
      answer('granted', rank, qty, bonus, 'claimed', entry)
    end
  end
end
local head = m[8]
if wake and ARGV[3] ~= '' then
  local holder = redis.call('GET', KEYS[6])
  if holder and holder ~= ARGV[4] then
    redis.call('PUBLISH', ARGV[3] .. holder, ARGV[1] .. ' ' .. ARGV[2])
    head = head .. ' ' .. redis.call('PTTL', KEYS[6])
  end
end
return head .. '\n' .. table.concat(out, '\n')
