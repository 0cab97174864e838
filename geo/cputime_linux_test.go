//go:build linux

package geo

import "syscall"

// threadCPU is the CPU time used so far by the calling OS thread, in nanoseconds, or -1 when it
// cannot be read. Benchmarks report it beside wall time because on a shared machine wall time
// also counts the time other processes held the CPU.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
