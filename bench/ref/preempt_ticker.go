// Compute + ticker with goroutines (issue 14), the Go column of
// scripts/bench-preempt.sh: COMPUTERS goroutines compute for SECONDS (a
// pure loop, reading the clock every few million steps) while one sleeps
// TICK_MS and counts. Go preempts asynchronously since 1.14.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	k, seconds, tick := 1, 1.0, 10
	if len(os.Args) > 1 {
		k, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		seconds, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	if len(os.Args) > 3 {
		tick, _ = strconv.Atoi(os.Args[3])
	}
	var ticks, stop int32
	done := make(chan bool)
	go func() {
		for atomic.LoadInt32(&stop) == 0 {
			time.Sleep(time.Duration(tick) * time.Millisecond)
			atomic.AddInt32(&ticks, 1)
		}
		done <- true
	}()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			until := time.Now().Add(time.Duration(seconds * float64(time.Second)))
			n := 0
			for time.Now().Before(until) {
				for j := 0; j < 4000000; j++ {
					n++
				}
			}
			_ = n
		}()
	}
	wg.Wait()
	got := atomic.LoadInt32(&ticks)
	wall := time.Since(t0).Seconds()
	atomic.StoreInt32(&stop, 1)
	<-done
	fmt.Printf("computers=%d seconds=%.2f tick_ms=%d ticks=%d wall_s=%.3f\n", k, seconds, tick, got, wall)
}
