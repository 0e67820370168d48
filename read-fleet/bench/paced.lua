-- wrk script: each connection waits DELAY ms after an answer before its next request,
-- so the offered rate stays below what the box can take and p99 measures latency,
-- not the queue a saturating client builds.
--   wrk -s paced.lua http://host/todos?limit=100 -- 2            (the URL's path)
--   wrk -s paced.lua http://host/ -- 2 /tmp/paths.txt             (a path at random from a file)
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("thread_seed", counter)
end

init = function(args)
  wait = assert(tonumber(args[1]), "the first argument is the delay in ms")
  reqs = nil
  if args[2] ~= nil then
    local file = assert(io.open(args[2], "r"), "cannot open the paths file")
    reqs = {}
    for line in file:lines() do
      if line ~= "" then
        reqs[#reqs + 1] = wrk.format(nil, line)
      end
    end
    file:close()
    assert(#reqs > 0, "the paths file is empty")
    n = #reqs
  else
    plain = wrk.format(nil)
  end
  math.randomseed(os.time() * 100 + (thread_seed or 0))
end

delay = function()
  return wait
end

request = function()
  if reqs == nil then
    return plain
  end
  return reqs[math.random(n)]
end
