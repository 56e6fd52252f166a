package signin

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// jwksMinInterval is how often at most the provider's keys are fetched.
// go-oidc fetches them again for every token signed with a key it does not
// know; without a bound, anyone sending forged bearer tokens would make
// the LRS fetch the provider's keys once a request. A key the provider
// rotates in is accepted at most this much later.
const jwksMinInterval = 10 * time.Second

// jwksThrottle is the transport of the provider's client: a GET of the
// JWKS within jwksMinInterval of the last one is answered with the last
// answer.
type jwksThrottle struct {
	next http.RoundTripper
	url  atomic.Pointer[string] // the jwks_uri, once discovered
	now  func() time.Time

	mu   sync.Mutex
	at   time.Time
	body []byte
	hdr  http.Header
}

func (t *jwksThrottle) RoundTrip(req *http.Request) (*http.Response, error) {
	u := t.url.Load()
	if u == nil || req.Method != http.MethodGet || req.URL.String() != *u {
		return t.next.RoundTrip(req)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.body != nil && t.now().Sub(t.at) < jwksMinInterval {
		return t.cached(req), nil
	}
	res, err := t.next.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	t.at, t.body, t.hdr = t.now(), body, res.Header.Clone()
	return t.cached(req), nil
}

func (t *jwksThrottle) cached(req *http.Request) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: t.hdr.Clone(), Body: io.NopCloser(bytes.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: req}
}
