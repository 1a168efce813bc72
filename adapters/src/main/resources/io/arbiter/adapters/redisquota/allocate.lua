-- Arbiter redisquota: allocations from buckets, all of them atomically, in one script call.
-- The same math as io.arbiter.adapters.quota.BucketState, step for step: keep them in step.
--
-- KEYS[i]  the i-th allocation's bucket hash (a key may repeat: allocations run in order)
-- ARGV[1]  now in ms, or '' to read the server's TIME (always '' outside tests)
-- Then six arguments per key, for key i starting at ARGV[2 + 6 * (i - 1)]:
--   algorithm: fw (fixed window), rw (rolling window), tb (token bucket)
--   maxAmount M    window W in ms    rw: slots N; tb: tick in ms; fw: unused
--   amount (capped at M + 1 by the caller)    best effort: 1 or 0
-- Returns one {granted, remaining, resetAfterMs} per key, in order.
--
-- All values are integers below 2^53, exact in Lua's doubles; divisions go through fdiv, which
-- corrects the rounding of '/'. Numbers are written with '%.0f', never in exponent form.
-- Writes happen only when units are granted; the key's TTL is the time until the bucket is idle
-- (as good as a fresh one), so an expired key loses nothing.

if redis.replicate_commands then
  redis.replicate_commands() -- Redis 3.2 to 4 need it to write after TIME; later ones ignore it
end

local now
-- A key's TTL is the time until the bucket is idle, on Redis's clock. A time given by a test runs
-- apart from that clock, so keys then live a minute longer, lest they expire under the test.
local ttlSlack = 0
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
  ttlSlack = 60000
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fdiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function cdiv(a, b)
  return -fdiv(-a, b)
end

local function num(v)
  if v then
    return tonumber(v)
  end
  return nil
end

local function str(x)
  return string.format('%.0f', x)
end

local function grant(available, n, bestEffort)
  if available <= 0 then
    return 0
  elseif n <= available then
    return n
  elseif bestEffort then
    return available
  end
  return 0
end

-- One allocation; {granted, remaining, resetAfterMs}, or nil for an unknown algorithm.
local function allocate(key, alg, M, W, X, n, bestEffort)
  if alg == 'fw' then
    local v = redis.call('HMGET', key, 'w', 'c')
    local s = fdiv(now, W) * W
    local c = 0
    local w = num(v[1])
    if w and w >= s then
      s = w
      c = num(v[2]) or 0
    end
    local g = grant(M - c, n, bestEffort)
    if g > 0 then
      c = c + g
      redis.call('HSET', key, 'w', str(s), 'c', str(c))
      redis.call('PEXPIRE', key, str(s + W - now + ttlSlack))
    end
    local reset = 0
    if c > 0 then
      reset = s + W - now
    end
    return {g, M - c, reset}

  elseif alg == 'rw' then
    local N = X
    local fields = {'k'}
    for p = 0, N - 1 do
      fields[#fields + 1] = tostring(p)
    end
    local v = redis.call('HMGET', key, unpack(fields))
    local cur = fdiv(now * N, W)
    local newest = num(v[1])
    local counts = {}
    for p = 0, N - 1 do
      counts[p] = num(v[p + 2]) or 0
    end
    local function pos(k)
      return k - fdiv(k, N) * N
    end
    if newest == nil then
      newest = cur
      for p = 0, N - 1 do
        counts[p] = 0
      end
    elseif cur > newest then
      if cur - newest >= N then
        for p = 0, N - 1 do
          counts[p] = 0
        end
      else
        for k = newest + 1, cur do
          counts[pos(k)] = 0
        end
      end
      newest = cur
    end
    cur = newest
    local used = 0
    for p = 0, N - 1 do
      used = used + counts[p]
    end
    local g = grant(M - used, n, bestEffort)
    local reset = 0
    if g > 0 then
      counts[pos(cur)] = counts[pos(cur)] + g
    end
    for k = cur - N + 1, cur do
      if counts[pos(k)] > 0 then
        reset = cdiv((k + N) * W, N) - now
        break
      end
    end
    if g > 0 then
      local args = {'k', str(newest)}
      for p = 0, N - 1 do
        args[#args + 1] = tostring(p)
        args[#args + 1] = str(counts[p])
      end
      redis.call('HSET', key, unpack(args))
      local idleAt = 0
      for k = cur, cur - N + 1, -1 do
        if counts[pos(k)] > 0 then
          idleAt = cdiv((k + N) * W, N)
          break
        end
      end
      redis.call('PEXPIRE', key, str(idleAt - now + ttlSlack))
    end
    return {g, M - used - g, reset}

  elseif alg == 'tb' then
    local tau = X
    local P = fdiv(W, tau)
    local C = M * P
    local t = fdiv(now, tau)
    local v = redis.call('HMGET', key, 'a', 't')
    local a = num(v[1])
    local last = num(v[2])
    if a == nil or last == nil then
      a = C
      last = t
    end
    if t > last then
      local e = t - last
      if e >= P then
        a = C
      else
        a = math.min(C, a + e * M)
      end
      last = t
    end
    local g = grant(fdiv(a, P), n, bestEffort)
    a = a - g * P
    local reset = 0
    if a < C then
      reset = (last + cdiv(P - (a - fdiv(a, P) * P), M)) * tau - now
    end
    if g > 0 then
      redis.call('HSET', key, 'a', str(a), 't', str(last))
      redis.call('PEXPIRE', key, str((last + cdiv(C - a, M)) * tau - now + ttlSlack))
    end
    return {g, fdiv(a, P), reset}
  end
  return nil
end

local results = {}
for i = 1, #KEYS do
  local b = 2 + 6 * (i - 1)
  local r = allocate(KEYS[i], ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]),
    tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), ARGV[b + 5] == '1')
  if r == nil then
    return redis.error_reply('arbiter redisquota: unknown algorithm ' .. tostring(ARGV[b]))
  end
  results[i] = r
end
return results
