-- wrk script: each request is one path picked at random from a file (one path a
-- line), e.g. wrk -s random-paths.lua http://host/ -- /tmp/paths.txt
-- A second argument paces it: each connection waits that many ms after an answer
-- before its next request (wrk -s random-paths.lua http://host/ -- /tmp/paths.txt 2),
-- so the offered rate stays below what the box takes and p99 measures latency.
-- Requests are formatted once in init; each thread seeds its own generator.
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("thread_seed", counter)
end

init = function(args)
  local file = assert(io.open(args[1], "r"), "cannot open the paths file")
  reqs = {}
  for line in file:lines() do
    if line ~= "" then
      reqs[#reqs + 1] = wrk.format(nil, line)
    end
  end
  file:close()
  assert(#reqs > 0, "the paths file is empty")
  math.randomseed(os.time() * 100 + (thread_seed or 0))
  n = #reqs
  if args[2] ~= nil then
    -- Defined only when paced: wrk checks for it after init, and an unpaced run keeps
    -- its timer-free send path.
    local wait = assert(tonumber(args[2]), "the second argument is the delay in ms")
    delay = function()
      return wait
    end
  end
end

request = function()
  return reqs[math.random(n)]
end
