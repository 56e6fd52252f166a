package main

// The hostile-clients suite: each test attacks a real `lrs serve` process
// on loopback as an attacker would and asserts the bound or the status,
// while it measures the server's resident memory, its open file
// descriptors and the latency of a legitimate request. The attacks are
// short by default; LRS_HOSTILE_LONG=1 runs them at full size.
// LRS_HOSTILE_BINARY runs them against another build of the LRS (to
// measure one before a change); by default the tests build this one.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	hostileKey    = "hostile-legit"
	hostileSecret = "legit-secret-of-the-test"
	hostileAdmin  = "admin-token-of-the-hostile-suite"
)

var (
	lrsBinaryOnce sync.Once
	lrsBinaryPath string
	lrsBinaryErr  error
)

// lrsBinary returns the path of an lrs binary: LRS_HOSTILE_BINARY, or
// this package built once per test run.
func lrsBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LRS_HOSTILE_BINARY"); p != "" {
		return p
	}
	lrsBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lrs-hostile-bin")
		if err != nil {
			lrsBinaryErr = err
			return
		}
		lrsBinaryPath = filepath.Join(dir, "lrs")
		if out, err := exec.Command("go", "build", "-o", lrsBinaryPath, ".").CombinedOutput(); err != nil {
			lrsBinaryErr = fmt.Errorf("build lrs: %v\n%s", err, out)
		}
	})
	if lrsBinaryErr != nil {
		t.Fatal(lrsBinaryErr)
	}
	return lrsBinaryPath
}

// long reports whether the attacks run at full size.
func long() bool { return os.Getenv("LRS_HOSTILE_LONG") == "1" }

// size returns short, or full when the attacks run at full size.
func size(short, full int) int {
	if long() {
		return full
	}
	return short
}

// target is a running `lrs serve` process under attack.
type target struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	logs *bytes.Buffer
	tmp  string // the server's TMPDIR
}

// startTarget starts `lrs serve` on a fresh data directory with the
// legitimate credential and the admin token, and waits until it answers.
func startTarget(t *testing.T, extraEnv ...string) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(lrsBinary(t), "serve")
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "LRS_ADDR="+addr, "LRS_DATA_DIR="+t.TempDir(), "LRS_LOG_LEVEL=warn",
		"LRS_BOOTSTRAP_KEY="+hostileKey, "LRS_BOOTSTRAP_SECRET="+hostileSecret, "LRS_ADMIN_TOKEN="+hostileAdmin)
	cmd.Env = append(cmd.Env, extraEnv...)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, &lockedWriter{w: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tg := &target{t: t, cmd: cmd, base: "http://" + addr, logs: logs, tmp: tmp}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(tg.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lrs serve did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The legitimate client has been verified once, as in production.
	if st, _ := tg.do("GET", "/xapi/statements?limit=1", hostileKey+":"+hostileSecret, nil, nil); st != http.StatusOK {
		t.Fatalf("legitimate GET: %d", st)
	}
	return tg
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// rss returns the server's resident memory in MiB.
func (tg *target) rss() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tg.cmd.Process.Pid))
	if err != nil {
		tg.t.Skipf("cannot read the server's memory here: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// fds returns how many file descriptors the server has open.
func (tg *target) fds() int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", tg.cmd.Process.Pid))
	if err != nil {
		tg.t.Skipf("cannot count the server's file descriptors here: %v", err)
	}
	return len(es)
}

// tempBytes returns the bytes of the server's temporary files: those in
// its TMPDIR and those it holds open after removing them.
func (tg *target) tempBytes() int64 {
	var n int64
	filepath.Walk(tg.tmp, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	dir := fmt.Sprintf("/proc/%d/fd", tg.cmd.Process.Pid)
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(link, tg.tmp) || !strings.HasSuffix(link, "(deleted)") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// do sends one request on a new connection, from a loopback address
// chosen by the caller through client (nil: the default one), and returns
// the status (0 when there was none) and body.
func (tg *target) do(method, path, auth string, header http.Header, body io.Reader) (int, []byte) {
	return tg.doWith(http.DefaultClient, method, path, auth, header, body)
}

func (tg *target) doWith(client *http.Client, method, path, auth string, header http.Header, body io.Reader) (int, []byte) {
	req, err := http.NewRequest(method, tg.base+path, body)
	if err != nil {
		tg.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("X-Experience-API-Version") == "" {
		req.Header.Set("X-Experience-API-Version", "1.0.3")
	}
	if k, s, ok := strings.Cut(auth, ":"); ok {
		req.SetBasicAuth(k, s)
	} else if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip.
func clientFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// measurement is what the server went through during an attack.
type measurement struct {
	rssBefore, rssPeak, rssAfter float64
	fdsBefore, fdsPeak           int
	legitMax                     time.Duration
	legitFailed                  int
	legitCount                   int
	tempPeak                     int64
}

func (m measurement) String() string {
	return fmt.Sprintf("RSS %.0f → peak %.0f → %.0f MiB; fds %d → peak %d; temp files peak %d MiB; legitimate GET: %d, slowest %v, %d failed",
		m.rssBefore, m.rssPeak, m.rssAfter, m.fdsBefore, m.fdsPeak, m.tempPeak>>20, m.legitCount, m.legitMax.Round(time.Millisecond), m.legitFailed)
}

// during runs attack while it samples the server and times a legitimate
// GET from another address every 50 ms.
func (tg *target) during(attack func()) measurement {
	tg.t.Helper()
	m := measurement{rssBefore: tg.rss(), fdsBefore: tg.fds()}
	m.rssPeak, m.fdsPeak = m.rssBefore, m.fdsBefore
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() {
		legit := clientFrom("127.0.0.254", 5*time.Second)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			st, _ := tg.doWith(legit, "GET", "/xapi/statements?limit=1", hostileKey+":"+hostileSecret, nil, nil)
			d := time.Since(start)
			mu.Lock()
			m.legitCount++
			m.legitMax = max(m.legitMax, d)
			if st != http.StatusOK {
				m.legitFailed++
			}
			mu.Unlock()
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			r, f, tb := tg.rss(), tg.fds(), tg.tempBytes()
			mu.Lock()
			m.rssPeak, m.fdsPeak, m.tempPeak = max(m.rssPeak, r), max(m.fdsPeak, f), max(m.tempPeak, tb)
			mu.Unlock()
		}
	})
	attack()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	m.rssAfter = tg.rss()
	return m
}

// parallel runs f(i) for i in [0, n) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// TestHostile_1_FailedKeysMemory: failed logins with distinct, long keys
// from many addresses keep the server's memory bounded, and the log never
// carries a whole key.
func TestHostile_1_FailedKeysMemory(t *testing.T) {
	tg := startTarget(t)
	n := size(600, 5000)
	longKey := strings.Repeat("k", 48<<10)
	clients := make([]*http.Client, 10)
	for i := range clients {
		clients[i] = clientFrom(fmt.Sprintf("127.0.1.%d", 1+i), 5*time.Second)
	}
	m := tg.during(func() {
		parallel(n, 48, func(i int) {
			tg.doWith(clients[i%10], "GET", "/xapi/statements", fmt.Sprintf("%s-%d:wrong", longKey, i), nil, nil)
		})
	})
	t.Logf("%d failed logins with 48 KiB keys from 10 addresses: %s", n, m)
	if grown := m.rssAfter - m.rssBefore; grown > 64 {
		t.Errorf("memory grew by %.0f MiB and stayed, want at most 64", grown)
	}
	for line := range strings.SplitSeq(tg.logs.String(), "\n") {
		if len(line) > 2048 {
			t.Errorf("a log line of %d bytes: %.200s…", len(line), line)
			break
		}
	}
}

// TestHostile_2_Lockout: others' failures never turn away the holder of
// the admin token or of a generated credential secret.
func TestHostile_2_Lockout(t *testing.T) {
	tg := startTarget(t)
	st, body := tg.do("POST", "/admin/tenants/default/credentials", "Bearer "+hostileAdmin, http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"scopes":["statements/read"]}`))
	if st != http.StatusCreated {
		t.Fatalf("create credential: %d %s", st, body)
	}
	var cred struct{ Key, Secret string }
	json.Unmarshal(body, &cred)
	attacker := clientFrom("127.0.2.1", 5*time.Second)
	m := tg.during(func() {
		parallel(20, 16, func(int) { tg.doWith(attacker, "GET", "/admin/tenants", "Bearer wrong", nil, nil) })
		parallel(80, 16, func(i int) {
			tg.doWith(attacker, "GET", "/xapi/statements", fmt.Sprintf("guess-%d:wrong", i), nil, nil)
		})
		parallel(10, 16, func(int) { tg.doWith(attacker, "GET", "/xapi/statements", cred.Key+":wrong", nil, nil) })
	})
	t.Logf("20 wrong admin tokens, 90 failed logins from one address: %s", m)
	if st, _ := tg.doWith(attacker, "GET", "/admin/tenants", "Bearer "+hostileAdmin, nil, nil); st != http.StatusOK {
		t.Errorf("right admin token from the attacker's address: %d, want 200", st)
	}
	if st, _ := tg.doWith(attacker, "GET", "/xapi/statements?limit=1", cred.Key+":"+cred.Secret, nil, nil); st != http.StatusOK {
		t.Errorf("right secret, never verified before, from the attacker's address: %d, want 200", st)
	}
	// The bootstrap credential's secret was chosen (bcrypt): its holder
	// gets in too, after guesses on its key from the same address.
	parallel(10, 10, func(int) { tg.doWith(attacker, "GET", "/xapi/statements", hostileKey+":wrong", nil, nil) })
	if st, _ := tg.doWith(attacker, "GET", "/xapi/statements?limit=1", hostileKey+":"+hostileSecret, nil, nil); st != http.StatusOK {
		t.Errorf("right chosen secret from the attacker's address: %d, want 200", st)
	}
	if st, _ := tg.doWith(attacker, "GET", "/xapi/statements", cred.Key+":still-wrong", nil, nil); st != http.StatusTooManyRequests {
		t.Errorf("the attacker's next guess: %d, want 429", st)
	}
}

// TestHostile_3_IdleConnections: a flood of idle keep-alive connections
// keeps neither a health probe nor a legitimate client out, and the
// server's file descriptors stay bounded.
func TestHostile_3_IdleConnections(t *testing.T) {
	tg := startTarget(t, "LRS_MAX_CONNECTIONS=512", "LRS_MAX_CONNECTIONS_PER_ADDRESS=0")
	n := size(2000, 20000)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	var mu sync.Mutex
	m := tg.during(func() {
		parallel(n, 32, func(i int) {
			c, err := dialFrom(fmt.Sprintf("127.0.3.%d", 1+i%200), strings.TrimPrefix(tg.base, "http://"))
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: lrs\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				resp.Body.Close()
			}
		})
	})
	d, err := healthz(t, "127.0.0.253", strings.TrimPrefix(tg.base, "http://"))
	t.Logf("%d idle keep-alive connections: %s; /healthz after: %v (%v)", n, m, d.Round(time.Millisecond), err)
	if err != nil || d > time.Second {
		t.Errorf("/healthz during the flood: %v, %v; want 200 within 1 s", d, err)
	}
	if m.fdsPeak > 512+64 {
		t.Errorf("server file descriptors peaked at %d, want at most %d", m.fdsPeak, 512+64)
	}
	if m.legitFailed > 0 {
		t.Errorf("%d legitimate requests failed during the flood", m.legitFailed)
	}
}

// TestHostile_5_FormsBeforeAuth: unauthenticated alternate-syntax forms,
// on any path, cannot make the server read megabytes each.
func TestHostile_5_FormsBeforeAuth(t *testing.T) {
	tg := startTarget(t)
	n := size(60, 240)
	form := bytes.Repeat([]byte("a"), 16<<20)
	clients := make([]*http.Client, 10)
	for i := range clients {
		clients[i] = clientFrom(fmt.Sprintf("127.0.5.%d", 1+i), 10*time.Second)
	}
	m := tg.during(func() {
		parallel(n, 30, func(i int) {
			path := "/xapi/statements?method=GET"
			if i%2 == 1 {
				path = "/healthz?method=GET"
			}
			tg.doWith(clients[i%10], "POST", path, "", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, bytes.NewReader(form))
		})
	})
	t.Logf("%d unauthenticated 16 MiB forms: %s", n, m)
	if grown := m.rssPeak - m.rssBefore; grown > 128 {
		t.Errorf("memory peaked %.0f MiB above the start, want at most 128", grown)
	}
}

// TestHostile_7_DocumentsAndCORS: an HTML document never runs as a page
// of the LRS's origin, and no origin gets credentials unless listed.
func TestHostile_7_DocumentsAndCORS(t *testing.T) {
	tg := startTarget(t)
	auth := hostileKey + ":" + hostileSecret
	path := "/xapi/activities/state?activityId=https%3A%2F%2Fx.example%2Fa&stateId=s&agent=" +
		"%7B%22mbox%22%3A%22mailto%3Aa%40x.example%22%7D"
	if st, b := tg.do("PUT", path, auth, http.Header{"Content-Type": {"text/html"}}, strings.NewReader("<script>alert(1)</script>")); st != http.StatusNoContent {
		t.Fatalf("PUT html: %d %s", st, b)
	}
	req, _ := http.NewRequest("GET", tg.base+path, nil)
	req.SetBasicAuth(hostileKey, hostileSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("HTML document served with nosniff %q, CSP %q; want nosniff and sandbox",
			resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Content-Security-Policy"))
	}
	for _, tc := range []struct{ path, origin string }{{"/xapi/statements", "null"}, {"/xapi/statements", "https://evil.example"}, {"/admin/tenants", "https://evil.example"}} {
		req, _ := http.NewRequest("OPTIONS", tg.base+tc.path, nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" || resp.Header.Get("Access-Control-Allow-Origin") == tc.origin {
			t.Errorf("OPTIONS %s from %s: Allow-Origin %q, Allow-Credentials %q; want neither the origin nor credentials",
				tc.path, tc.origin, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}

// TestHostile_9_ConcurrentMerges: concurrent merges of one document all
// succeed.
func TestHostile_9_ConcurrentMerges(t *testing.T) {
	tg := startTarget(t)
	auth := hostileKey + ":" + hostileSecret
	path := "/xapi/activities/state?activityId=https%3A%2F%2Fx.example%2Fa&stateId=merge&agent=" +
		"%7B%22mbox%22%3A%22mailto%3Aa%40x.example%22%7D"
	n := size(20, 100)
	var conflicts atomic.Int32
	m := tg.during(func() {
		parallel(n, n, func(i int) {
			st, _ := tg.do("POST", path, auth, http.Header{"Content-Type": {"application/json"}, "X-Experience-API-Version": {"2.0.0"}},
				strings.NewReader(fmt.Sprintf(`{"w%d":%d}`, i, i)))
			if st != http.StatusNoContent {
				conflicts.Add(1)
			}
		})
	})
	t.Logf("%d concurrent merges: %d refused; %s", n, conflicts.Load(), m)
	if c := conflicts.Load(); c > 0 {
		t.Errorf("%d of %d concurrent merges refused, want none", c, n)
	}
	_, body := tg.do("GET", path, auth, nil, nil)
	var doc map[string]int
	if json.Unmarshal(body, &doc); len(doc) != n {
		t.Errorf("merged document has %d properties, want %d", len(doc), n)
	}
}

// TestHostile_11_WrongSecretLoad: a steady load of wrong secrets, chosen
// (bcrypt) and generated alike, leaves a legitimate request fast, and a
// revoked key fails no faster than an unknown one.
func TestHostile_11_WrongSecretLoad(t *testing.T) {
	tg := startTarget(t)
	_, body := tg.do("POST", "/admin/tenants/default/credentials", "Bearer "+hostileAdmin, http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"scopes":["all"]}`))
	var cred struct{ Key, Secret string }
	json.Unmarshal(body, &cred)
	dur := time.Duration(size(2, 10)) * time.Second
	m := tg.during(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dur)
		defer cancel()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				c := clientFrom(fmt.Sprintf("127.0.11.%d", 1+w), 5*time.Second)
				for i := 0; ctx.Err() == nil; i++ {
					key := hostileKey // the bootstrap credential's secret is chosen: bcrypt
					if i%2 == 1 {
						key = cred.Key
					}
					tg.doWith(c, "GET", "/xapi/statements", fmt.Sprintf("%s:wrong-%d", key, i), nil, nil)
					time.Sleep(30 * time.Millisecond)
				}
			})
		}
		wg.Wait()
	})
	t.Logf("8 clients sending wrong secrets for %v: %s", dur, m)
	if m.legitFailed > 0 || m.legitMax > 500*time.Millisecond {
		t.Errorf("legitimate GET during the load: %d failed, slowest %v; want none failed, all within 500 ms", m.legitFailed, m.legitMax)
	}
	// Revoked and unknown keys cost the same.
	tg.do("POST", "/admin/credentials/"+cred.Key+"/revoke", "Bearer "+hostileAdmin, nil, nil)
	timeOf := func(key string) time.Duration {
		var ds []time.Duration
		for i := range 9 {
			c := clientFrom(fmt.Sprintf("127.0.12.%d", 1+i), 5*time.Second)
			start := time.Now()
			tg.doWith(c, "GET", "/xapi/statements", key+":"+cred.Secret, nil, nil)
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	revoked, unknown := timeOf(cred.Key), timeOf("no-such-key-at-all")
	t.Logf("failed login: revoked key %v, unknown key %v (medians)", revoked, unknown)
	if revoked*5 < unknown || unknown*5 < revoked {
		t.Errorf("revoked key fails in %v, unknown key in %v: timing tells them apart", revoked, unknown)
	}
}

// multipartBody streams a statements request whose statements part is
// stmts and whose attachment parts are made by parts, each written to w.
func multipartBody(stmts string, parts func(w io.Writer)) (io.Reader, string) {
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, "--b\r\nContent-Type: application/json\r\n\r\n%s\r\n", stmts)
		parts(pw)
		fmt.Fprintf(pw, "--b--\r\n")
		pw.Close()
	}()
	return pr, "multipart/mixed; boundary=b"
}

// TestHostile_3_6_Multipart: attachment parts cannot open a file each,
// and nothing of an attachment is read or spooled before its statements
// are valid.
func TestHostile_3_6_Multipart(t *testing.T) {
	tg := startTarget(t)
	auth := hostileKey + ":" + hostileSecret
	stmt := func(sha2 string, length int) string {
		return fmt.Sprintf(`{"actor":{"mbox":"mailto:a@x.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},`+
			`"attachments":[{"usageType":"http://x.example/u","display":{"en":"a"},"contentType":"text/plain","length":%d,"sha2":"%s"}]}`, length, sha2)
	}
	n := size(25000, 25000)
	var status int
	m := tg.during(func() {
		body, ct := multipartBody(stmt(strings.Repeat("a", 64), 1), func(w io.Writer) {
			for i := range n {
				content := fmt.Sprintf("part %d", i)
				fmt.Fprintf(w, "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: %x\r\n\r\n%s\r\n",
					sha256.Sum256([]byte(content)), content)
			}
		})
		status, _ = tg.do("POST", "/xapi/statements", auth, http.Header{"Content-Type": {ct}}, body)
	})
	t.Logf("one request with %d attachment parts: %d; %s", n, status, m)
	if status < 400 || status >= 500 {
		t.Errorf("%d attachment parts: status %d, want a 4xx", n, status)
	}
	if m.fdsPeak > m.fdsBefore+32 {
		t.Errorf("server file descriptors peaked at %d (from %d)", m.fdsPeak, m.fdsBefore)
	}

	// Invalid statements with a 100 MiB attachment each: refused before
	// the attachment is read.
	big := size(100, 400) << 20
	m = tg.during(func() {
		parallel(4, 4, func(i int) {
			body, ct := multipartBody(`{"actor":{"mbox":"not-a-mailbox"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}`, func(w io.Writer) {
				fmt.Fprintf(w, "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: %064x\r\n\r\n", i)
				w.Write(make([]byte, big))
				fmt.Fprintf(w, "\r\n")
			})
			tg.do("POST", "/xapi/statements", auth, http.Header{"Content-Type": {ct}}, body)
		})
	})
	t.Logf("4 invalid statements with %d MiB attachments: %s", big>>20, m)
	if m.rssPeak-m.rssBefore > 64 {
		t.Errorf("memory peaked %.0f MiB above the start", m.rssPeak-m.rssBefore)
	}
	if m.tempPeak > 1<<20 {
		t.Errorf("temp files peaked at %d bytes, want none of the attachments spooled", m.tempPeak)
	}
}

// TestHostile_4_BigPages: GETs of pages of large statements hold a page
// of bounded bytes at a time, not the whole page several times over.
func TestHostile_4_BigPages(t *testing.T) {
	tg := startTarget(t)
	auth := hostileKey + ":" + hostileSecret
	n, big := size(30, 60), strings.Repeat("x", 1<<20)
	for i := range n {
		st, b := tg.do("POST", "/xapi/statements", auth, http.Header{"Content-Type": {"application/json"}}, strings.NewReader(fmt.Sprintf(
			`{"actor":{"mbox":"mailto:a@x.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a/%d"},`+
				`"result":{"extensions":{"http://x.example/blob":"%s"}}}`, i, big)))
		if st != http.StatusOK {
			t.Fatalf("POST statement %d: %d %s", i, st, b)
		}
	}
	clients := size(12, 12)
	var got atomic.Int64
	m := tg.during(func() {
		parallel(clients, clients, func(int) {
			req, _ := http.NewRequest("GET", tg.base+"/xapi/statements?limit=0", nil)
			req.SetBasicAuth(hostileKey, hostileSecret)
			req.Header.Set("X-Experience-API-Version", "1.0.3")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			k, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got.Add(k)
		})
	})
	t.Logf("%d concurrent GETs of %d statements of 1 MiB: %d MiB sent; %s", clients, n, got.Load()>>20, m)
	if grown := m.rssPeak - m.rssBefore; grown > 512 {
		t.Errorf("memory peaked %.0f MiB above the start, want at most 512", grown)
	}
}

// TestHostile_10_ReadMine: a statements/read/mine credential can neither
// void nor read another credential's statement, nor tell it exists.
func TestHostile_10_ReadMine(t *testing.T) {
	tg := startTarget(t)
	auth := hostileKey + ":" + hostileSecret
	st, body := tg.do("POST", "/admin/tenants/default/credentials", "Bearer "+hostileAdmin, http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"scopes":["statements/write","statements/read/mine"],"app":"Vendor"}`))
	if st != http.StatusCreated {
		t.Fatalf("create credential: %d %s", st, body)
	}
	var cred struct{ Key, Secret string }
	json.Unmarshal(body, &cred)
	mine := cred.Key + ":" + cred.Secret
	const theirs, unknown = "a7c3d1e2-4b5f-4c6d-8e9f-0a1b2c3d4e5f", "b7c3d1e2-4b5f-4c6d-8e9f-0a1b2c3d4e5f"
	if st, b := tg.do("PUT", "/xapi/statements?statementId="+theirs, auth, http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"actor":{"mbox":"mailto:a@x.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}`)); st != http.StatusNoContent {
		t.Fatalf("PUT: %d %s", st, b)
	}
	void := func(target string) int {
		st, _ := tg.do("POST", "/xapi/statements", mine, http.Header{"Content-Type": {"application/json"}}, strings.NewReader(
			`{"actor":{"mbox":"mailto:v@x.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"`+target+`"}}`))
		return st
	}
	if a, b := void(theirs), void(unknown); a != b {
		t.Errorf("voiding another's statement: %d, an unknown one: %d; want the same answer", a, b)
	}
	if st, _ := tg.do("GET", "/xapi/statements?statementId="+theirs, auth, nil, nil); st != http.StatusOK {
		t.Errorf("the other credential's statement after the attempt to void it: %d, want 200 (not voided)", st)
	}
	a, ab := tg.do("GET", "/xapi/statements?statementId="+theirs, mine, nil, nil)
	b, bb := tg.do("GET", "/xapi/statements?statementId="+unknown, mine, nil, nil)
	var ae, be struct{ Error, Message string }
	json.Unmarshal(ab, &ae)
	json.Unmarshal(bb, &be)
	ae.Message, be.Message = strings.ReplaceAll(ae.Message, theirs, "ID"), strings.ReplaceAll(be.Message, unknown, "ID")
	if a != http.StatusNotFound || a != b || ae.Message != be.Message {
		t.Errorf("GET of another's statement: %d %q; of an unknown one: %d %q; want the same 404", a, ae.Message, b, be.Message)
	}
}
