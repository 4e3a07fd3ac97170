-- events.lua - wrk script: durable stage changes through the JSON API.
--
--   wrk ... -s bench/events.lua URL -- REFERENCES THREADS API_KEY
--
-- REFERENCES holds one case reference per line, each a burglary case at stage
-- investigating. Every request moves one case to awaiting_forensics; thread k
-- of THREADS takes every THREADS-th line from line k, so no case is used
-- twice. Should a thread run out, it starts its list again and those requests
-- answer 409 (already moved); done() reports them so the reader can tell.
-- Only 201 Created counts as a durable write.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file, nthreads, key = args[1], tonumber(args[2]), args[3]
   if not file or not nthreads or not key then
      error("usage: -- REFERENCES THREADS API_KEY")
   end
   refs = {}
   local line_no = 0
   for line in io.lines(file) do
      if line_no % nthreads == id and line ~= "" then
         refs[#refs + 1] = line
      end
      line_no = line_no + 1
   end
   if #refs == 0 then
      error("no references for thread " .. id .. " in " .. file)
   end
   headers = {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }
   body = '{"type":"stage_change","stage":"awaiting_forensics"}'
   next_i, wrapped, created, other, statuses = 0, 0, 0, 0, {}
end

function request()
   next_i = next_i + 1
   if next_i > #refs then
      next_i, wrapped = 1, 1
   end
   return wrk.format("POST", "/api/v1/cases/" .. refs[next_i] .. "/events", headers, body)
end

function response(status, resp_headers, resp_body)
   if status == 201 then
      created = created + 1
   else
      other = other + 1
      statuses[status] = (statuses[status] or 0) + 1
      local parts = {}
      for code, count in pairs(statuses) do
         parts[#parts + 1] = code .. ":" .. count
      end
      status_list = table.concat(parts, ",")
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local total_created, total_other, any_wrapped, by_status = 0, 0, 0, {}
   for _, t in ipairs(threads) do
      total_created = total_created + t:get("created")
      total_other = total_other + t:get("other")
      any_wrapped = math.max(any_wrapped, t:get("wrapped"))
      for code, count in string.gmatch(t:get("status_list") or "", "(%d+):(%d+)") do
         by_status[code] = (by_status[code] or 0) + tonumber(count)
      end
   end
   local parts = {}
   for code, count in pairs(by_status) do
      parts[#parts + 1] = code .. ":" .. count
   end
   table.sort(parts)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f created=%d created_ps=%.1f other=%d statuses=%s"
         .. " p50_ms=%.3f p99_ms=%.3f socket_errors=%d exhausted=%d\n",
      summary.requests, seconds, total_created, total_created / seconds, total_other,
      #parts > 0 and table.concat(parts, ",") or "none",
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.connect + e.read + e.write + e.timeout, any_wrapped))
end
