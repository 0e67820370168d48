-- wrk script: cache-buster traffic, GET <path>&_=<thread>-<counter>, a new query
-- string on every request (what a client defeating caches sends). With the
-- argument "plain" it sends <path> unchanged through the same Lua request path,
-- so the hot-hit reference costs wrk the same per request.
--   wrk -s busters.lua http://host/todos?limit=100 -- busters|plain
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

init = function(args)
  mode = args[1] or "busters"
  path = wrk.path
  plain = wrk.format(nil, path)
  n = 0
  prefix = path .. "&_=" .. tostring(thread_id or 0) .. "-"
end

request = function()
  if mode == "plain" then
    return plain
  end
  n = n + 1
  return wrk.format(nil, prefix .. n)
end
