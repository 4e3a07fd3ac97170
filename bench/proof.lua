-- proof.lua - wrk script: inclusion proofs of random entries in a large log.
--
--   wrk ... -s bench/proof.lua URL -- SIZE
--
-- Every request asks for the inclusion proof of a random entry in the tree of
-- SIZE entries (the signed checkpoint's size). done() prints one
-- "RESULT key=value ..." line for bench/log.sh.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   size = tonumber(args[1])
   if not size or size < 1 then
      error("usage: -- SIZE")
   end
   math.randomseed(os.time() + id * 7919)
   ok, other = 0, 0
end

function request()
   -- Two draws: math.random alone covers only 2^31 values on some builds.
   local index = (math.random(0, 65535) * 65536 + math.random(0, 65535)) % size
   return wrk.format("GET", "/log/proof/inclusion?index=" .. index .. "&size=" .. size)
end

function response(status)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local total_ok, total_other = 0, 0
   for _, t in ipairs(threads) do
      total_ok = total_ok + t:get("ok")
      total_other = total_other + t:get("other")
   end
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f ok=%d ok_ps=%.1f other=%d p50_ms=%.3f p99_ms=%.3f\n",
      summary.requests, seconds, total_ok, total_ok / seconds, total_other,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
