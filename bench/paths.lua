-- wrk script: cycle through the request paths listed one per line in BENCH_PATHS, each thread
-- starting at a different place.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if line ~= "" then paths[#paths + 1] = line end
end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 7919)
end
local i = 0
function init(args)
  i = (start or 0) % #paths
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
