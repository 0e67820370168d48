-- wrk script: each request is one path picked at random from a file (one path a
-- line), e.g. wrk -s random-paths.lua http://host/ -- /tmp/paths.txt
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
end

request = function()
  return reqs[math.random(n)]
end
