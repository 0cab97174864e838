// Command streambench measures the live stream (GET /v1/cases/stream) end to end: it connects
// --readers server-sent event clients with one API token, then makes --changes case changes one
// after another with POST --post-path (the JSON body of --body, where {{n}} is the change's
// number), and for each change measures, at every reader, the time from sending the POST to the
// event's arrival (an upper bound: it includes the intake's own work and commit). The change travels: commit, the trigger's NOTIFY,
// the server's LISTEN connection, one read of the case, the hub's fan-out, each reader's stream.
//
//	go run ./bench/streambench --url http://127.0.0.1:18095 --token glt_... --readers 1000 --changes 50
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server")
	token := flag.String("token", "", "an API token with cases.read everywhere and cases.report")
	readers := flag.Int("readers", 1000, "stream clients")
	changes := flag.Int("changes", 50, "case changes to make")
	post := flag.String("post-path", "/v1/cases", "where to POST a change")
	body := flag.String("body", "", "the JSON body of a change; {{n}} is replaced by its number")
	pause := flag.Duration("pause", 200*time.Millisecond, "the wait between changes")
	dbURL := flag.String("db", "", "make the changes through the dispatch engine's intake on this database (as a second server would) instead of POSTing them")
	flag.Parse()
	var report func(n int) error
	if *dbURL != "" {
		var err error
		if report, err = intake(*dbURL); err != nil {
			fmt.Fprintln(os.Stderr, "streambench:", err)
			os.Exit(1)
		}
	}
	if err := run(*url, *token, *readers, *changes, *post, *body, *pause, report); err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

type arrival struct {
	reader int
	id     string
	at     time.Time
}

func run(base, token string, nReaders, nChanges int, postPath, body string, pause time.Duration, report func(int) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: nReaders + 10, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
	client := &http.Client{Transport: tr}
	arrivals := make(chan arrival, nReaders*4)
	var connected sync.WaitGroup
	errs := make(chan error, nReaders)
	for i := range nReaders {
		connected.Add(1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/cases/stream", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					err = fmt.Errorf("stream: %d %s", resp.StatusCode, b)
				}
				errs <- err
				connected.Done()
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			first := true
			for sc.Scan() {
				line := sc.Text()
				if first && strings.HasPrefix(line, ": connected") {
					first = false
					connected.Done()
				}
				if id, ok := strings.CutPrefix(line, "id: "); ok {
					arrivals <- arrival{reader: i, id: id, at: time.Now()}
				}
			}
		}()
	}
	connected.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("%d readers connected\n", nReaders)
	// Which event ids each change made: the POST answers with the case; its first event's id
	// is what the stream sends (read from the stream itself: the first id seen after the POST).
	type change struct {
		sent time.Time // when the POST was sent: the latency includes the intake itself
		id   string
	}
	var mu sync.Mutex
	seen := map[string][]time.Time{}
	go func() {
		for a := range arrivals {
			mu.Lock()
			seen[a.id] = append(seen[a.id], a.at)
			mu.Unlock()
		}
	}()
	var made []change
	for n := range nChanges {
		b := strings.ReplaceAll(body, "{{n}}", strconv.Itoa(n))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+postPath, bytes.NewReader([]byte(b)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		before := map[string]bool{}
		mu.Lock()
		for id := range seen {
			before[id] = true
		}
		mu.Unlock()
		sent := time.Now()
		if report != nil {
			if err := report(n); err != nil {
				return err
			}
		} else {
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 300 {
				return fmt.Errorf("POST %s: %d %s", postPath, resp.StatusCode, rb)
			}
		}
		// Wait for the change's event to reach every reader (or 10 s).
		deadline := time.Now().Add(10 * time.Second)
		var id string
		for time.Now().Before(deadline) {
			mu.Lock()
			for k, v := range seen {
				if !before[k] && len(v) >= nReaders {
					id = k
				}
			}
			mu.Unlock()
			if id != "" {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if id == "" {
			mu.Lock()
			most := 0
			for k, v := range seen {
				if !before[k] {
					most = max(most, len(v))
				}
			}
			mu.Unlock()
			return fmt.Errorf("change %d: only %d of %d readers got it within 10 s", n, most, nReaders)
		}
		made = append(made, change{sent: sent, id: id})
		time.Sleep(pause)
	}
	var lat []time.Duration
	var worstPerChange []time.Duration
	mu.Lock()
	for _, c := range made {
		worst := time.Duration(0)
		for _, at := range seen[c.id] {
			d := at.Sub(c.sent)
			lat = append(lat, d)
			worst = max(worst, d)
		}
		worstPerChange = append(worstPerChange, worst)
	}
	mu.Unlock()
	slices.Sort(lat)
	slices.Sort(worstPerChange)
	pct := func(s []time.Duration, p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	out := map[string]any{"readers": nReaders, "changes": len(made), "deliveries": len(lat),
		"p50_ms": ms(pct(lat, 0.50)), "p99_ms": ms(pct(lat, 0.99)), "max_ms": ms(lat[len(lat)-1]),
		"last_reader_p50_ms": ms(pct(worstPerChange, 0.5)), "last_reader_max_ms": ms(worstPerChange[len(worstPerChange)-1])}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
