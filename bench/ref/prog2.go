// prog2 in Go: the reference point for "Prog 2" (see bench/prog2.c).
//
//	prog2_go N [sleep_ms=auto]
//
// N goroutines check in and then sleep until released, checking the release
// flag every sleep_ms (default max(1 s, 3 us * N), for the reason given in
// prog2.c). Once all have checked in, the memory they hold is read from
// /proc/self/status and printed in the same line format as the C program.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// vm holds the /proc/self/status fields prog2 reports, in kB.
type vm struct{ rss, hwm, pte, vsz int64 }

func readVM() (vm, bool) {
	var v vm
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return v, false
	}
	defer f.Close()
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		val, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			v.rss = val
		case "VmHWM:":
			v.hwm = val
		case "VmPTE:":
			v.pte = val
		case "VmSize:":
			v.vsz = val
		default:
			continue
		}
		found++
	}
	return v, found == 4
}

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
	sleepMs := 0
	if ok {
		n, ok = parseCount(os.Args[1])
		ok = ok && n >= 1
	}
	if ok && len(os.Args) == 3 && os.Args[2] != "auto" {
		sleepMs, ok = parseCount(os.Args[2])
		ok = ok && sleepMs >= 1
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: prog2_go N [sleep_ms=auto]")
		os.Exit(2)
	}
	if sleepMs == 0 {
		sleepMs = 1000
		if n*3/1000 > sleepMs {
			sleepMs = n * 3 / 1000
		}
	}
	d := time.Duration(sleepMs) * time.Millisecond

	// As in prog2.c: pay one-time costs before the baseline.
	done := make(chan struct{})
	go func() { close(done) }()
	<-done

	base, ok := readVM()
	if !ok {
		fmt.Fprintln(os.Stderr, "prog2_go: cannot read /proc/self/status")
		os.Exit(2)
	}

	var checkedIn int64
	var released int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			atomic.AddInt64(&checkedIn, 1)
			for atomic.LoadInt32(&released) == 0 {
				time.Sleep(d)
			}
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&checkedIn) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	now, ok := readVM()
	if !ok {
		fmt.Fprintln(os.Stderr, "prog2_go: cannot read /proc/self/status")
		os.Exit(2)
	}
	atomic.StoreInt32(&released, 1)
	wg.Wait()

	perThread := ((now.rss + now.pte) - (base.rss + base.pte)) * 1024 / int64(n)
	fmt.Printf("prog2 n=%d created=%d rss_kb=%d hwm_kb=%d pte_kb=%d vsz_kb=%d "+
		"base_rss_kb=%d base_pte_kb=%d per_thread_bytes=%d ok\n",
		n, n, now.rss, now.hwm, now.pte, now.vsz, base.rss, base.pte, perThread)
}
