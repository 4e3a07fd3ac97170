-- appeals_bbox.lua - wrk script: map views of published appeals.
--
--   wrk ... -s bench/appeals_bbox.lua URL -- PATH WIDTH_DEG HEIGHT_DEG
--
-- Each request asks PATH (/api/v1/public/appeals or .geojson) for a box of
-- WIDTH_DEG x HEIGHT_DEG degrees placed at random inside the area the
-- benchmark's appeals cover (Great Britain's box), as a map pans about.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   path, width, height = args[1], tonumber(args[2]), tonumber(args[3])
   if not path or not width or not height then
      error("usage: -- PATH WIDTH_DEG HEIGHT_DEG")
   end
   math.randomseed(os.time() + id * 7919)
   ok, other, bytes = 0, 0, 0
end

function request()
   local lon = -5.5 + math.random() * (7.2 - width)
   local lat = 50.0 + math.random() * (8.5 - height)
   return wrk.format("GET", string.format("%s?bbox=%.4f,%.4f,%.4f,%.4f", path, lon, lat,
                                          lon + width, lat + height))
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
      bytes = bytes + #body
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local total_ok, total_other, total_bytes = 0, 0, 0
   for _, t in ipairs(threads) do
      total_ok = total_ok + t:get("ok")
      total_other = total_other + t:get("other")
      total_bytes = total_bytes + t:get("bytes")
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d ok=%d ok_ps=%.1f other=%d mean_bytes=%.0f p50_ms=%.3f p99_ms=%.3f"
         .. " socket_errors=%d\n",
      summary.requests, total_ok, total_ok / seconds, total_other,
      total_ok > 0 and total_bytes / total_ok or 0, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout))
end
