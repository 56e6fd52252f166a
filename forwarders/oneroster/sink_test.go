package oneroster_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/statements"
)

// MustOpenSink returns a Sink writing to a new test gradebook, and the
// gradebook.
func MustOpenSink(tb testing.TB, logs *bytes.Buffer) (*oneroster.Sink, *onerostertest.Server) {
	tb.Helper()
	srv := onerostertest.New("lrs-client", "s3cret")
	tb.Cleanup(srv.Close)
	cfg := oneroster.Config{
		BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(),
		ClientID: "lrs-client", ClientSecret: "s3cret",
		HTTPClient: &http.Client{Timeout: 2 * time.Second},
	}
	if logs != nil {
		cfg.Logger = zerolog.New(logs)
	}
	s, err := oneroster.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s, srv
}

func TestSink_Send(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		s, srv := MustOpenSink(t, nil)
		es := []statements.LogEntry{
			entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":87}}`, nil),
			entry(t, 2, "http://adlnet.gov/expapi/verbs/experienced", "", nil),
			entry(t, 3, oneroster.VerbCompleted, "", func(st map[string]any) {
				st["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: "li-2"}}
			}),
		}
		if err := s.Send(ctx, es); err != nil {
			t.Fatal(err)
		}
		if got, want := srv.Results(), 2; got != want {
			t.Fatalf("results: got %d, want %d", got, want)
		}
		r := srv.Result(oneroster.ResultID("t1", "li-1", "s-1"))
		if r == nil || r["score"] != 87.0 || r["scoreStatus"] != "fully graded" {
			t.Errorf("result of li-1: %v", r)
		}
		if r := srv.Result(oneroster.ResultID("t1", "li-2", "s-1")); r == nil || r["scoreStatus"] != "submitted" {
			t.Errorf("result of li-2: %v", r)
		}
		st := s.Stats()
		if st.Written != 2 || st.Ignored != 1 || st.TokenRequests != 1 {
			t.Errorf("stats: %+v", st)
		}
		// The token is cached.
		if err := s.Send(ctx, []statements.LogEntry{entry(t, 4, oneroster.VerbPassed, "", nil)}); err != nil {
			t.Fatal(err)
		}
		if tokens, _ := srv.Counts(); tokens != 1 {
			t.Errorf("token requests: got %d, want 1", tokens)
		}
	})

	t.Run("TokenRefreshOn401", func(t *testing.T) {
		s, srv := MustOpenSink(t, nil)
		if err := s.Send(ctx, []statements.LogEntry{entry(t, 1, oneroster.VerbPassed, "", nil)}); err != nil {
			t.Fatal(err)
		}
		srv.RevokeTokens()
		if err := s.Send(ctx, []statements.LogEntry{entry(t, 2, oneroster.VerbFailed, "", nil)}); err != nil {
			t.Fatal(err)
		}
		tokens, puts := srv.Counts()
		if tokens != 2 || puts != 3 {
			t.Errorf("tokens, puts: got %d, %d, want 2, 3", tokens, puts)
		}
		if r := srv.Result(oneroster.ResultID("t1", "li-1", "s-1")); r == nil || r["textScore"] != "fail" {
			t.Errorf("result: %v", r)
		}
	})

	t.Run("ErrServerThenRetry", func(t *testing.T) {
		s, srv := MustOpenSink(t, nil)
		es := []statements.LogEntry{
			entry(t, 1, oneroster.VerbPassed, "", nil),
			entry(t, 2, oneroster.VerbCompleted, "", func(st map[string]any) {
				st["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: "li-2"}}
			}),
		}
		// The first PUT succeeds, the second fails.
		if err := s.Send(ctx, es[:1]); err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1, http.StatusServiceUnavailable)
		if err := s.Send(ctx, es); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("got %v, want a 503 error", err)
		}
		srv.FailNext(1, http.StatusTooManyRequests)
		if err := s.Send(ctx, es); err == nil {
			t.Fatal("got nil, want a 429 error")
		}
		if err := s.Send(ctx, es); err != nil {
			t.Fatal(err)
		}
		if got := srv.Results(); got != 2 {
			t.Errorf("results: got %d, want 2", got)
		}
		// Position 1 was written once: the retries did not send it again.
		if _, puts := srv.Counts(); puts != 4 {
			t.Errorf("puts: got %d, want 4", puts)
		}
		if st := s.Stats(); st.Written != 2 {
			t.Errorf("written: got %d, want 2", st.Written)
		}
	})

	t.Run("ErrNetwork", func(t *testing.T) {
		s, srv := MustOpenSink(t, nil)
		srv.Close()
		if err := s.Send(ctx, []statements.LogEntry{entry(t, 1, oneroster.VerbPassed, "", nil)}); err == nil {
			t.Fatal("got nil, want an error")
		}
	})

	t.Run("ErrBadCredentials", func(t *testing.T) {
		srv := onerostertest.New("lrs-client", "s3cret")
		defer srv.Close()
		s, err := oneroster.New(oneroster.Config{BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), ClientID: "lrs-client", ClientSecret: "wrong"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, []statements.LogEntry{entry(t, 1, oneroster.VerbPassed, "", nil)}); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("got %v, want a 401 token error", err)
		}
	})

	t.Run("DeadLetter422", func(t *testing.T) {
		var logs bytes.Buffer
		s, srv := MustOpenSink(t, &logs)
		srv.FailNext(1, http.StatusUnprocessableEntity)
		es := []statements.LogEntry{
			entry(t, 1, oneroster.VerbPassed, "", nil),
			entry(t, 2, oneroster.VerbCompleted, "", func(st map[string]any) {
				st["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: "li-2"}}
			}),
		}
		if err := s.Send(ctx, es); err != nil {
			t.Fatalf("got %v, want nil: a dead letter must not block the relay", err)
		}
		st := s.Stats()
		if st.DeadLetters != 1 || st.Written != 1 {
			t.Errorf("stats: %+v", st)
		}
		if srv.Result(oneroster.ResultID("t1", "li-2", "s-1")) == nil {
			t.Error("the statement after the dead letter was not written")
		}
		if !strings.Contains(logs.String(), es[0].Record.ID) || !strings.Contains(logs.String(), `"status":422`) {
			t.Errorf("log: %s", logs.String())
		}
	})

	t.Run("SkipUnknownStudent", func(t *testing.T) {
		s, srv := MustOpenSink(t, nil)
		es := []statements.LogEntry{
			entry(t, 1, oneroster.VerbPassed, "", func(st map[string]any) {
				st["actor"] = map[string]any{"mbox": "mailto:a@example.org"}
			}),
			entry(t, 2, oneroster.VerbPassed, "", func(st map[string]any) { delete(st, "context") }),
		}
		if err := s.Send(ctx, es); err != nil {
			t.Fatal(err)
		}
		if tokens, puts := srv.Counts(); tokens != 0 || puts != 0 {
			t.Errorf("requests: %d tokens, %d puts, want none", tokens, puts)
		}
		st := s.Stats()
		if st.Skipped[oneroster.SkipStudent] != 1 || st.Skipped[oneroster.SkipLineItem] != 1 {
			t.Errorf("skipped: %v", st.Skipped)
		}
	})
}

func TestNew(t *testing.T) {
	good := oneroster.Config{BaseURL: "https://gb.example" + onerostertest.BasePath, TokenURL: "https://gb.example/token", ClientID: "a", ClientSecret: "b"}
	s, err := oneroster.New(good)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Name(), "oneroster:gb.example"; got != want {
		t.Errorf("name: got %q, want %q", got, want)
	}
	for name, edit := range map[string]func(*oneroster.Config){
		"NoBaseURL":      func(c *oneroster.Config) { c.BaseURL = "" },
		"NoTokenURL":     func(c *oneroster.Config) { c.TokenURL = "" },
		"NoClientID":     func(c *oneroster.Config) { c.ClientID = "" },
		"NoClientSecret": func(c *oneroster.Config) { c.ClientSecret = "" },
		"BadBaseURL":     func(c *oneroster.Config) { c.BaseURL = "gb.example/v1p2" },
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			edit(&c)
			if _, err := oneroster.New(c); err == nil {
				t.Error("got nil, want an error")
			}
		})
	}
}
