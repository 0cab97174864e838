//go:build !linux

package geo

// threadCPU cannot be read portably outside Linux; benchmarks then report wall time only.
func threadCPU() int64 { return -1 }
