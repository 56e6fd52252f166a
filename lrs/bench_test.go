package lrs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

// benchServer is an LRS on a real embedded store, served over HTTP in
// process, with a client that keeps a connection per goroutine.
type benchServer struct {
	url    string
	client *http.Client
	gen    *gen.Generator
}

func mustOpenBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store}))
	b.Cleanup(func() { srv.Close(); store.Close() })
	g, err := gen.New(gen.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	b.Cleanup(tr.CloseIdleConnections)
	s := &benchServer{url: srv.URL + "/xapi/statements", client: &http.Client{Transport: tr}, gen: g}
	// One request first: the credential cache is warm before the clients
	// start, as with lrs-bench, which checks the credential first. (A cold
	// cache costs one bcrypt per concurrent client.)
	s.post(b, g.Statement(1<<62).JSON)
	return s
}

func (s *benchServer) post(b *testing.B, body []byte) {
	req, err := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Errorf("POST: %d %s", res.StatusCode, out)
	}
}

// BenchmarkPostStatement POSTs single generated statements (about 1.6 KB
// each) from 32 concurrent clients, like `lrs-bench --mode post
// --concurrency 32`.
func BenchmarkPostStatement(b *testing.B) {
	s := mustOpenBenchServer(b)
	var next atomic.Uint64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.post(b, s.gen.Statement(next.Add(1)).JSON)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "statements/s")
}

// BenchmarkPostBatch100 POSTs batches of 100 generated statements from 8
// concurrent clients, like `lrs-bench --mode batch --concurrency 8`.
func BenchmarkPostBatch100(b *testing.B) {
	s := mustOpenBenchServer(b)
	var next atomic.Uint64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		for pb.Next() {
			buf = s.gen.AppendBatch(buf[:0], next.Add(100)-100, 100)
			s.post(b, buf)
		}
	})
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "statements/s")
}
