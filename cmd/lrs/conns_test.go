package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// openFDs returns how many file descriptors this process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors here: %v", err)
	}
	return len(es)
}

// dialFrom opens a TCP connection to addr from the loopback address from
// (Linux routes all of 127.0.0.0/8 to the loopback interface).
func dialFrom(from, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	return d.Dial("tcp", addr)
}

// healthz times a GET /healthz on a new connection from the loopback
// address from.
func healthz(t *testing.T, from, addr string) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	c, err := dialFrom(from, addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: lrs\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

// TestServe_IdleConnectionFlood: a client holding many more idle
// keep-alive connections than the server keeps open never keeps a health
// probe out, and the server's open connections and file descriptors stay
// bounded.
func TestServe_IdleConnectionFlood(t *testing.T) {
	const max, flood = 64, 400
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled",
		MaxConns: max, MaxConnsPerAddr: 0}
	a := startApp(t, cfg, io.Discard)
	before := openFDs(t)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range flood {
		c, err := dialFrom("127.0.0.1", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		// One request, then the connection stays open and idle.
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: lrs\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			resp.Body.Close()
		}
	}
	d, err := healthz(t, "127.0.0.2", a.Addr())
	if err != nil {
		t.Fatalf("/healthz during a flood of %d idle connections: %v", flood, err)
	}
	if n := a.conns.open(); n > max {
		t.Errorf("server holds %d connections, want at most %d", n, max)
	}
	// The test holds its own ends of the flood's connections (one fd each);
	// the server's ends beyond max are closed.
	if grown := openFDs(t) - before - flood; grown > max+16 {
		t.Errorf("server-side file descriptors grew by %d during the flood, want at most %d", grown, max+16)
	}
	t.Logf("flood of %d idle connections: /healthz in %v; server holds %d connections", flood, d.Round(time.Millisecond), a.conns.open())
}

// TestServe_ConnectionsPerAddress: one address cannot take more than its
// share of connections, even busy ones; another address still gets in.
func TestServe_ConnectionsPerAddress(t *testing.T) {
	const perAddr = 16
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled",
		MaxConns: 1000, MaxConnsPerAddr: perAddr}
	a := startApp(t, cfg, io.Discard)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 3 * perAddr {
		c, err := dialFrom("127.0.0.3", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		// Busy: a request whose headers never end.
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: lrs\r\n")
	}
	time.Sleep(200 * time.Millisecond)
	if n := a.conns.open(); n > perAddr {
		t.Errorf("server holds %d connections of one address, want at most %d", n, perAddr)
	}
	if _, err := healthz(t, "127.0.0.4", a.Addr()); err != nil {
		t.Errorf("/healthz from another address: %v", err)
	}
}

// TestServe_SlowBody: a request body sent slower than the minimum rate is
// cut off after the grace time instead of holding its connection, whether
// the handler reads it (an authenticated request) or not (a refused one).
func TestServe_SlowBody(t *testing.T) {
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled",
		MinBodyRate: 100, BodyGrace: 300 * time.Millisecond, BootstrapKey: "k", BootstrapSecret: "s"}
	a := startApp(t, cfg, io.Discard)
	t.Run("Read", func(t *testing.T) {
		slowBody(t, a.Addr(), "Authorization: Basic azpz\r\n", "slower than 100 bytes per second")
	})
	t.Run("Refused", func(t *testing.T) { slowBody(t, a.Addr(), "", " 401 ") })
}

func slowBody(t *testing.T, addr, auth, want string) {
	c, err := dialFrom("127.0.0.1", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST /xapi/statements HTTP/1.1\r\nHost: lrs\r\n%sX-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", auth)
	// A byte every 100 ms: 10 bytes per second, a tenth of the minimum.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte("[")); err != nil {
					return
				}
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	took := time.Since(start)
	if took > 5*time.Second {
		t.Errorf("slow body held the connection for %v, want it cut off after about the grace time", took)
	}
	if !strings.Contains(string(b), want) {
		t.Errorf("slow body answered %q, want %q", b, want)
	}
	t.Logf("slow body cut off after %v", took.Round(time.Millisecond))
}
