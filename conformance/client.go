package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client talks to one LRS in one xAPI version. It sets the
// X-Experience-API-Version header and the Basic credential on every request
// unless told otherwise, and mints data unique to this client.
type Client struct {
	base        *url.URL
	key, secret string
	version     string
	http        *http.Client
	settle      time.Duration
	skew        time.Duration
	runID       string
	seq         atomic.Uint64
	names       sync.Map // statement id → name, for error messages
	// caps is what the preflight learned; never nil.
	caps *Capabilities
	// written records the data the client stores; shared by the clients
	// of one run.
	written *writtenLog
	// check names the check running, for written; "" outside of one.
	check string

	mu   sync.Mutex
	last *Exchange // the last exchange of the check running
}

// NewClient returns a client for cfg.Endpoint speaking cfg.Version, which must
// be one of Versions. Without a preflight it takes the credential for one
// of scope "all" whose authority it does not know; Run gives its clients
// what the preflight learned.
func NewClient(cfg Config) (*Client, error) {
	return newClient(cfg, nil, nil)
}

// newClient returns a client with the capabilities caps (nil: scope
// "all") that records what it writes in written (nil: a log of its own).
func newClient(cfg Config, caps *Capabilities, written *writtenLog) (*Client, error) {
	if cfg.Version != V103 && cfg.Version != V200 {
		return nil, fmt.Errorf("conformance: unsupported xAPI version %q (want %s or %s)", cfg.Version, V103, V200)
	}
	endpoint := cfg.Endpoint
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	base, err := url.Parse(endpoint)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("conformance: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	c := &Client{
		base:    base,
		key:     cfg.Key,
		secret:  cfg.Secret,
		version: cfg.Version,
		http:    cfg.Client,
		settle:  cfg.Settle,
		skew:    cfg.ClockSkew,
		runID:   randomHex(4),
		caps:    caps,
		written: written,
	}
	if c.caps == nil {
		c.caps = allScopes
	}
	if c.written == nil {
		c.written = &writtenLog{}
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.settle <= 0 {
		c.settle = 5 * time.Second
	}
	if c.skew <= 0 {
		c.skew = 10 * time.Second
	}
	return c, nil
}

// Version returns the xAPI version the client speaks.
func (c *Client) Version() string { return c.version }

// begin starts a check: the data written from now on is the check's, and
// the last exchange is forgotten.
func (c *Client) begin(check string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.check, c.last = check, nil
}

// lastExchange returns the last exchange since begin, or nil.
func (c *Client) lastExchange() *Exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// request is one HTTP request to the LRS.
type request struct {
	method string
	// path is relative to the endpoint ("statements"), an absolute path
	// ("/xapi/statements?..."), or an absolute URL.
	path   string
	query  url.Values
	header http.Header
	// body is sent as is when []byte or string, otherwise as JSON.
	body      any
	noAuth    bool // send no Authorization header
	noVersion bool // send no X-Experience-API-Version header
}

// response is the LRS's answer, read in full.
type response struct {
	method string
	url    string
	status int
	header http.Header
	body   []byte
}

func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	return c.base.ResolveReference(ref), nil
}

// do sends the request and reads the whole response.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	u, err := c.resolve(req.path)
	if err != nil {
		return nil, fmt.Errorf("bad request path %q: %w", req.path, err)
	}
	if len(req.query) > 0 {
		q := u.Query()
		for k, vs := range req.query {
			q[k] = append(q[k], vs...)
		}
		u.RawQuery = q.Encode()
	}
	var sent []byte
	switch b := req.body.(type) {
	case nil:
	case []byte:
		sent = b
	case string:
		sent = []byte(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		sent = data
	}
	var body io.Reader
	contentType := ""
	if req.body != nil {
		body, contentType = bytes.NewReader(sent), "application/json"
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if !req.noVersion {
		hr.Header.Set("X-Experience-API-Version", c.version)
	}
	if !req.noAuth {
		hr.SetBasicAuth(c.key, c.secret)
	}
	for k, vs := range req.header {
		hr.Header[http.CanonicalHeaderKey(k)] = vs
	}
	ex := &Exchange{Request: requestMessage(hr, sent)}
	defer func() {
		c.mu.Lock()
		c.last = ex
		c.mu.Unlock()
	}()
	resp, err := c.http.Do(hr)
	if err != nil {
		ex.Err = err.Error()
		return nil, fmt.Errorf("%s %s: %w", req.method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	ex.Response = responseMessage(resp, data)
	if err != nil {
		ex.Err = err.Error()
		return nil, fmt.Errorf("%s %s: reading body: %w", req.method, u, err)
	}
	r := &response{method: req.method, url: u.String(), status: resp.StatusCode, header: resp.Header, body: data}
	c.record(hr, sent, r)
	return r, nil
}

// wantStatus returns an error unless the response has one of the statuses.
func (r *response) wantStatus(want ...int) error {
	for _, w := range want {
		if r.status == w {
			return nil
		}
	}
	ws := make([]string, len(want))
	for i, w := range want {
		ws[i] = strconv.Itoa(w)
	}
	return fmt.Errorf("%s %s: status %d, want %s%s", r.method, r.url, r.status, strings.Join(ws, " or "), r.bodyHint())
}

// bodyHint returns the start of the body, for error messages.
func (r *response) bodyHint() string {
	b := strings.TrimSpace(string(r.body))
	if b == "" {
		return ""
	}
	if len(b) > 300 {
		b = b[:300] + "..."
	}
	return "; body: " + b
}

// decode parses the JSON body into v.
func (r *response) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%s %s: body is not the expected JSON: %v%s", r.method, r.url, err, r.bodyHint())
	}
	return nil
}

// eventually calls f until it returns nil or the settle time has passed, and
// returns its last error. It covers LRSs that respond before stored
// statements are retrievable (Communication 2.1.1.s2.b1, 2.1.2.s2.b1).
func (c *Client) eventually(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(c.settle)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fatalError stops eventually at once: waiting cannot help.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// newUUID returns a random (version 4, variant 2) UUID in standard form.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
