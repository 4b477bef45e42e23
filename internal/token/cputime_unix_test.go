//go:build unix

package token

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (all threads, user and
// system). Benchmarks report it per op next to ns/op, because ns/op is wall
// time and inflates when other work shares the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
