-- wrk script: GET /v1/resolve at random points of a bounding box given in the environment
-- (BENCH_BBOX=minLon,minLat,maxLon,maxLat), so every request asks about a different place.
local b = {}
for v in string.gmatch(os.getenv("BENCH_BBOX") or "113.50,34.60,113.70,34.77", "[^,]+") do
  b[#b + 1] = tonumber(v)
end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed or 1)
end
function request()
  local x = b[1] + math.random() * (b[3] - b[1])
  local y = b[2] + math.random() * (b[4] - b[2])
  return wrk.format("GET", string.format("/v1/resolve?lon=%.6f&lat=%.6f", x, y))
end
