-- open311_post.lua - wrk script: reports posted to POST requests.xml as a
-- reporting site posts them.
--
--   wrk ... -s bench/open311_post.lua URL -- API_KEY RUN
--
-- Every request carries its own attribute[fixmystreet_id] (RUN, the thread
-- and a counter), so each one opens a new case rather than replaying an
-- earlier one. Only 200 with a service_request_id counts as a durable case;
-- done() prints the counts so the reader can tell.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local key, run = args[1], args[2]
   if not key or not run then
      error("usage: -- API_KEY RUN")
   end
   prefix = "jurisdiction_id=northshire&api_key=" .. key ..
      "&service_code=potholes&lat=54.5231&long=-1.5598&email=bench%40example.org" ..
      "&first_name=Bench&last_name=Reporter&phone=01632+960000" ..
      "&description=title%3A+Pothole%0D%0A%0D%0Adetail%3A+Deep+hole+by+the+bus+stop" ..
      "&media_url=https%3A%2F%2Ffms.example%2Fphoto.jpeg&attribute%5Bdepth%5D=deep" ..
      "&attribute%5Bfixmystreet_id%5D=" .. run .. "-" .. id .. "-"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   counter, created, other = 0, 0, 0
end

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil, prefix .. counter)
end

function response(status, headers, body)
   if status == 200 and body:find("<service_request_id>", 1, true) then
      created = created + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local c, o = 0, 0
   for _, t in ipairs(threads) do
      c = c + t:get("created")
      o = o + t:get("other")
   end
   io.write(string.format("open311 created=%d other=%d\n", c, o))
end
