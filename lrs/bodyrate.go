package lrs

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/digione/lrs/statements"
)

// Defaults of Config.BodyGrace and Config.MinBodyRate.
const (
	DefaultBodyGrace   = 10 * time.Second
	DefaultMinBodyRate = 1024 // bytes per second
)

// rateBody is a request body that must arrive at a minimum rate: the
// read deadline of the connection moves with what has arrived, grace
// plus one second per minRate bytes. A client that sends slower (a slow
// loris) is cut off instead of holding a connection and a goroutine.
type rateBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	grace   time.Duration
	minRate int64
	n       int64
}

func (b *rateBody) Read(p []byte) (int, error) {
	deadline := b.start.Add(b.grace + time.Duration(b.n)*time.Second/time.Duration(b.minRate))
	if err := b.rc.SetReadDeadline(deadline); err != nil {
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, statements.Errorf(statements.EInvalid, "body: sent slower than %d bytes per second", b.minRate)
	case err == io.EOF:
		// The whole body is in: the handler may take its time.
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// withMinRate gives r's body a minimum rate, when it has one. Deadlines
// are on the wall clock, whatever Config.Now says.
func (s *Server) withMinRate(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || s.minBodyRate <= 0 {
		return
	}
	b := &rateBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: s.bodyGrace, minRate: s.minBodyRate}
	// A body the handler does not read (a request refused early) is
	// drained by the HTTP server after the response: the deadline bounds
	// that too.
	b.rc.SetReadDeadline(b.start.Add(b.grace))
	r.Body = b
}
