// prog1 in Go: the reference point for "Prog 1" (see bench/prog1.c).
//
//	prog1_go N [sleep_ms=200]
//
// N goroutines each time.Sleep, then all are waited for. Same output line as
// the C program so scripts/bench-refs.sh parses both alike. Goroutine creation
// cannot fail the way pthread_create does, so there is no fail line.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// parseCount accepts "100", "10k", "1M" like the C programs do.
func parseCount(s string) (int, bool) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "k") || strings.HasSuffix(s, "K"):
		mult, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "m") || strings.HasSuffix(s, "M"):
		mult, s = 1000000, s[:len(s)-1]
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, false
	}
	return v * mult, true
}

func main() {
	n, ok := 0, len(os.Args) >= 2 && len(os.Args) <= 3
	sleepMs := 200
	if ok {
		n, ok = parseCount(os.Args[1])
		ok = ok && n >= 1
	}
	if ok && len(os.Args) == 3 {
		sleepMs, ok = parseCount(os.Args[2])
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: prog1_go N [sleep_ms=200]")
		os.Exit(2)
	}

	d := time.Duration(sleepMs) * time.Millisecond
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			time.Sleep(d)
			wg.Done()
		}()
	}
	wg.Wait()
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	fmt.Printf("prog1 n=%d created=%d wall_ms=%.1f ok\n", n, n, ms)
}
