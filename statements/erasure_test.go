package statements

import (
	"strings"
	"testing"
	"time"
)

func TestErasure_Rewrite(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	e, err := NewErasure(key, "t", "Agent|mbox|mailto:l@example.org", "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := `{"objectType":"Agent","account":{"homePage":"https://digione.fi/xapi/erased","name":"` + e.Pseudonym.Account.Name + `"}}`
	for _, c := range []struct{ in, want string }{
		{`{"actor": {"mbox":"mailto:x@example.org"},  "verb":{"id":"v"}}`, ``},
		{`{"actor":{"mbox":"mailto:x@example.org"}, "context":{"instructor":{"objectType":"Agent","name":"L","mbox":"mailto:l@EXAMPLE.org"}}}`,
			`{"actor":{"mbox":"mailto:x@example.org"},"context":{"instructor":` + p + `}}`},
		{`{"context":{"team":{"objectType":"Group","member":[{"mbox":"mailto:l@example.org"}, {"mbox":"mailto:x@example.org"}]}}}`,
			`{"context":{"team":{"objectType":"Group","member":[{"account":{"homePage":"https://digione.fi/xapi/erased","name":"` + e.Pseudonym.Account.Name + `"}},{"mbox":"mailto:x@example.org"}]}}}`},
		{`{"object":{"objectType":"Group","mbox":"mailto:l@example.org"}}`, ``},
	} {
		got, changed, err := e.Rewrite([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if string(got) != want || changed != (c.want != "") {
			t.Errorf("Rewrite(%s):\n got %s (%v)\nwant %s", c.in, got, changed, want)
		}
	}
}

func TestErasure_Deletes(t *testing.T) {
	e, _ := NewErasure([]byte("0123456789abcdef0123456789abcdef"), "t", "Agent|mbox|mailto:l@example.org", "test", time.Now())
	l, x := `{"mbox":"mailto:l@example.org"}`, `{"mbox":"mailto:x@example.org"}`
	for _, c := range []struct {
		stmt string
		want bool
	}{
		{`{"actor":` + l + `,"verb":{"id":"v"},"object":{"id":"a"}}`, true},
		{`{"actor":` + x + `,"verb":{"id":"v"},"object":{"objectType":"Agent","mbox":"mailto:l@example.org"}}`, true},
		{`{"actor":{"objectType":"Group","member":[` + l + `,{"name":"anonymous"}]},"verb":{"id":"v"},"object":{"id":"a"}}`, true},
		{`{"actor":{"objectType":"Group","member":[` + l + `,` + x + `]},"verb":{"id":"v"},"object":{"id":"a"}}`, false},
		{`{"actor":{"objectType":"Group","mbox":"mailto:g@example.org","member":[` + l + `]},"verb":{"id":"v"},"object":{"id":"a"}}`, false},
		{`{"actor":` + x + `,"verb":{"id":"v"},"object":{"id":"a"},"context":{"instructor":` + l + `}}`, false},
		{`{"actor":` + x + `,"verb":{"id":"v"},"object":{"objectType":"SubStatement","actor":` + l + `}}`, false},
	} {
		got, err := e.Deletes([]byte(c.stmt))
		if err != nil || got != c.want {
			t.Errorf("Deletes(%s): %v, %v; want %v", c.stmt, got, err, c.want)
		}
	}
	if e.ID != e.AgentHash[:32] || strings.Contains(e.Pseudonym.Account.Name, "l@") {
		t.Errorf("erasure %+v", e)
	}
	e2, _ := NewErasure([]byte("0123456789abcdef0123456789abcdeX"), "t", e.Agent, "test", time.Now())
	if e2.ID == e.ID || e2.Pseudonym.Account.Name == e.Pseudonym.Account.Name {
		t.Errorf("another key, the same hashes")
	}
}
