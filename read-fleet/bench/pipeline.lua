-- wrk script: sends `depth` requests back to back on each connection (HTTP/1.1
-- pipelining), e.g. wrk -s pipeline.lua http://host/todos?limit=100 -- 16
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
