-- wrk script of ops/bench: POSTs the ~1 KB chat request (a system and a user message) and
-- prints machine-readable results in done().
--
--   wrk -t1 -c64 -d10s -s ops/bench-lib/chat.lua URL -- BODY_FILE KEYS_FILE MODE [overhead]
--
-- BODY_FILE  the request body (ops/bench-lib/chat-request.json, "stream":false)
-- KEYS_FILE  API keys, one a line; request i uses key i mod n, so 10,000 keys spread the load
--            over 10,000 tenants. "-" sends "Bearer none" (the mock and nginx ignore the key).
-- MODE       json | stream ("stream":true: the mock answers with SSE, 16 tokens by default)
-- overhead   also collect the x-sluice-overhead-ms response header into a histogram (10 us
--            buckets) and print its p50/p90/p99 in done(). This defines response(), which makes
--            wrk parse every response's headers and body in Lua, so it costs wrk some throughput;
--            ops/bench therefore runs it as a separate run.
--
-- Every request is formatted once in init() and reused, so the per-request Lua cost is the same
-- for one key and for 10,000.

local requests = {}
local count = 0
local index = 0

-- Per-thread results, read by done() through thread:get().
hist = {}
samples = 0
missing = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  local body = read_file(args[1])
  local mode = args[3] or "json"
  if mode == "stream" then
    body = body:gsub('"stream"%s*:%s*false', '"stream":true', 1)
    if not body:find('"stream":true', 1, true) then
      error("the body has no \"stream\":false to turn on")
    end
  end
  local keys = {}
  if args[2] ~= nil and args[2] ~= "-" then
    for line in io.lines(args[2]) do
      if #line > 0 then
        keys[#keys + 1] = line
      end
    end
  end
  if #keys == 0 then
    keys[1] = "none"
  end
  for i = 1, #keys do
    requests[i] = wrk.format("POST", wrk.path,
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. keys[i] }, body)
  end
  count = #requests
  -- Only a script that defines response() makes wrk hand responses to Lua.
  if args[4] ~= "overhead" then
    response = nil
  end
end

function request()
  index = index % count + 1
  return requests[index]
end

function response(status, headers, body)
  local v = headers["x-sluice-overhead-ms"] or headers["X-Sluice-Overhead-Ms"]
  local ms = v and tonumber(v)
  if ms then
    local b = math.floor(ms * 100 + 0.5) -- 10 us buckets
    hist[b] = (hist[b] or 0) + 1
    samples = samples + 1
  else
    missing = missing + 1
  end
end

local function percentile(merged, total, p)
  local keys = {}
  for b in pairs(merged) do
    keys[#keys + 1] = b
  end
  table.sort(keys)
  local want = math.ceil(total * p / 100)
  local seen = 0
  for _, b in ipairs(keys) do
    seen = seen + merged[b]
    if seen >= want then
      return b / 100
    end
  end
  return keys[#keys] / 100
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f bytes=%d connect_errors=%d read_errors=%d write_errors=%d "
      .. "non2xx=%d timeouts=%d lat_p50_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f\n",
    summary.requests, seconds, summary.requests / seconds, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  local merged, total, absent = {}, 0, 0
  for _, t in ipairs(threads) do
    local h = t:get("hist") or {}
    for b, c in pairs(h) do
      merged[b] = (merged[b] or 0) + c
      total = total + c
    end
    absent = absent + (t:get("missing") or 0)
  end
  if total > 0 then
    io.write(string.format("OVERHEAD n=%d missing=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f\n", total, absent,
      percentile(merged, total, 50), percentile(merged, total, 90), percentile(merged, total, 99)))
  elseif absent > 0 then
    io.write(string.format("OVERHEAD n=0 missing=%d\n", absent))
  end
end
