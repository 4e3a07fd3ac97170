-- track.lua - wrk script: public tracking look-ups with real demo credentials.
--
--   wrk ... -s bench/track.lua URL -- CREDENTIALS THREADS [PATH]
--
-- CREDENTIALS holds "REFERENCE SECRET STAGE SERVICE" lines (opencase demo
-- --credentials). Thread k of THREADS takes every THREADS-th line from line k,
-- so the threads look up different cases, and cycles through them. With PATH,
-- every request goes to that fixed path instead (the static-file baseline) but
-- carries the same header, so both servers receive the same requests.
-- done() prints one "RESULT key=value ..." line for bench/run.sh.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file, nthreads = args[1], tonumber(args[2])
   fixed_path = args[3]
   if not file or not nthreads or nthreads < 1 then
      error("usage: -- CREDENTIALS THREADS [PATH]")
   end
   paths, secrets = {}, {}
   local line_no = 0
   for line in io.lines(file) do
      if line_no % nthreads == id then
         local ref, secret = line:match("^(%S+)%s+(%S+)")
         if ref then
            paths[#paths + 1] = fixed_path or ("/api/v1/track/" .. ref)
            secrets[#secrets + 1] = secret
         end
      end
      line_no = line_no + 1
   end
   if #paths == 0 then
      error("no credentials for thread " .. id .. " in " .. file)
   end
   next_i = 0
end

function request()
   next_i = next_i % #paths + 1
   return wrk.format("GET", paths[next_i], { ["X-Tracking-Secret"] = secrets[next_i] })
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
end
