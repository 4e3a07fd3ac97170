-- appeals_answers.lua - wrk script: durable answers to appeals.
--
--   wrk ... -s bench/appeals_answers.lua URL -- APPEALS
--
-- Each request answers one of the appeals 1..APPEALS at random, named and
-- anonymous in turn, from a made-up client address in X-Forwarded-For (the
-- server trusts 127.0.0.1 as a proxy), so that the per-address limit of ten
-- answers an hour counts each made-up witness rather than the benchmark.
-- Only 201 Created counts: the answer and its event are durable.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   appeals = tonumber(args[1])
   if not appeals then
      error("usage: -- APPEALS")
   end
   math.randomseed(os.time() + id * 104729)
   n, created, other = 0, 0, 0
   named = '{"saw":"A man in a dark coat walking quickly towards the station.","when":'
      .. '"About 10pm","anonymous":false,"contact":{"name":"A Witness","email":'
      .. '"witness@example.org","preferred":"email"}}'
   anonymous = '{"saw":"A white van parked with its engine running.","anonymous":true,'
      .. '"location":{"lat":51.5,"lon":-0.12}}'
end

function request()
   n = n + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["X-Forwarded-For"] = string.format("10.%d.%d.%d", id % 256, math.floor(n / 256) % 256,
                                          n % 256),
   }
   local body = (n % 2 == 0) and named or anonymous
   return wrk.format("POST", "/api/v1/public/appeals/" .. math.random(1, appeals) .. "/answers",
                     headers, body)
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local total_created, total_other = 0, 0
   for _, t in ipairs(threads) do
      total_created = total_created + t:get("created")
      total_other = total_other + t:get("other")
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d created=%d created_ps=%.1f other=%d p50_ms=%.3f p99_ms=%.3f"
         .. " socket_errors=%d\n",
      summary.requests, total_created, total_created / seconds, total_other,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.connect + e.read + e.write + e.timeout))
end
