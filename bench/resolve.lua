-- wrk script: GET /v1/resolve at a different place every request. With BENCH_POINTS (a file of
-- "lon lat" lines) it cycles through those points; otherwise it draws random points in the box
-- BENCH_BBOX=minLon,minLat,maxLon,maxLat.
local b = {}
for v in string.gmatch(os.getenv("BENCH_BBOX") or "113.50,34.60,113.67,34.77", "[^,]+") do
  b[#b + 1] = tonumber(v)
end
local pts = {}
local file = os.getenv("BENCH_POINTS")
if file and file ~= "" then
  for line in io.lines(file) do
    local x, y = string.match(line, "([%d%.%-]+)%s+([%d%.%-]+)")
    if x then pts[#pts + 1] = { x, y } end
  end
end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
local i = 0
function init(args)
  math.randomseed(seed or 1)
  i = math.random(1, math.max(#pts, 1))
end
function request()
  if #pts > 0 then
    i = i % #pts + 1
    return wrk.format("GET", "/v1/resolve?lon=" .. pts[i][1] .. "&lat=" .. pts[i][2])
  end
  local x = b[1] + math.random() * (b[3] - b[1])
  local y = b[2] + math.random() * (b[4] - b[2])
  return wrk.format("GET", string.format("/v1/resolve?lon=%.6f&lat=%.6f", x, y))
end
