//go:build race

package demo

// raceEnabled: the race detector slows the address tests about tenfold; they check fewer addresses.
const raceEnabled = true
