package gen_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
	"github.com/digione/lrs/validation"
)

func MustNew(tb testing.TB, cfg gen.Config) *gen.Generator {
	tb.Helper()
	g, err := gen.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestGenerator_Deterministic(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)
	a := MustNew(t, gen.Config{Seed: 42, Now: now})
	b := MustNew(t, gen.Config{Seed: 42, Now: now})
	other := MustNew(t, gen.Config{Seed: 43, Now: now})
	if got, want := a.Stats(), b.Stats(); got != want {
		t.Fatalf("stats: got %+v, want %+v", got, want)
	}
	same := 0
	// In reverse order on b: statement i does not depend on the ones before.
	for i := uint64(300); i > 0; i-- {
		sa, sb := a.Statement(i-1), b.Statement(i-1)
		if !bytes.Equal(sa.JSON, sb.JSON) {
			t.Fatalf("statement %d differs between two generators of one seed:\n%s\n%s", i-1, sa.JSON, sb.JSON)
		}
		if bytes.Equal(sa.JSON, other.Statement(i-1).JSON) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d statements are the same for seeds 42 and 43", same)
	}
	t.Run("Batch", func(t *testing.T) {
		var want []json.RawMessage
		for i := uint64(10); i < 15; i++ {
			want = append(want, a.Statement(i).JSON)
		}
		var got []json.RawMessage
		if err := json.Unmarshal(a.AppendBatch([]byte("x"), 10, 5)[1:], &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d statements, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("batch member %d:\ngot  %s\nwant %s", i, got[i], want[i])
			}
		}
	})
}

func TestGenerator_Valid(t *testing.T) {
	for _, v := range []string{gen.V103, gen.V200} {
		t.Run(v, func(t *testing.T) {
			g := MustNew(t, gen.Config{Seed: 7, Version: v})
			for i := range uint64(400) {
				st := g.Statement(i * 7919)
				if err := validation.Statement(v, st.JSON); err != nil {
					t.Fatalf("statement %d: %v\n%s", i*7919, err, st.JSON)
				}
			}
			if err := validation.Statements(v, g.AppendBatch(nil, 1000, 100)); err != nil {
				t.Fatalf("batch: %v", err)
			}
		})
	}
	t.Run("ErrVersion", func(t *testing.T) {
		if _, err := gen.New(gen.Config{Version: "1.0.2"}); err == nil {
			t.Error("New accepted version 1.0.2")
		}
	})
}

func TestGenerator_Sizes(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		g := MustNew(t, gen.Config{Seed: seed})
		const n = 4000
		in := 0
		for i := range uint64(n) {
			if s := len(g.Statement(i).JSON); s >= 512 && s <= 3072 {
				in++
			}
		}
		if got := float64(in) / n; got < 0.95 {
			t.Errorf("seed %d: %.1f%% of statements are 0.5-3 KB, want at least 95%%", seed, 100*got)
		}
	}
}

// statementFields is what TestGenerator_Targets reads back from the JSON.
type statementFields struct {
	Actor struct {
		ObjectType string `json:"objectType"`
		Account    struct {
			HomePage string `json:"homePage"`
			Name     string `json:"name"`
		} `json:"account"`
	} `json:"actor"`
	Verb   struct{ ID string } `json:"verb"`
	Object struct{ ID string } `json:"object"`
	Result *struct {
		Score *struct{ Scaled float64 } `json:"score"`
	} `json:"result"`
	Context struct {
		Registration      string                           `json:"registration"`
		Platform          string                           `json:"platform"`
		Language          string                           `json:"language"`
		Instructor        json.RawMessage                  `json:"instructor"`
		ContextActivities map[string][]struct{ ID string } `json:"contextActivities"`
		Extensions        map[string]json.RawMessage       `json:"extensions"`
	} `json:"context"`
}

// TestGenerator_Targets checks that what a Statement says it can be found
// by is in its JSON, and that the traffic has the variety of real traffic.
func TestGenerator_Targets(t *testing.T) {
	g := MustNew(t, gen.Config{Seed: 1})
	verbs := map[string]int{}
	var withReg, withInstructor, withScore, dottedExt int
	const n = 3000
	for i := range uint64(n) {
		st := g.Statement(i)
		var f statementFields
		if err := json.Unmarshal(st.JSON, &f); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		var agent statementFields
		if err := json.Unmarshal([]byte(`{"actor":`+string(st.Agent)+`}`), &agent); err != nil {
			t.Fatal(err)
		}
		if f.Actor != agent.Actor || f.Actor.ObjectType != "Agent" || f.Actor.Account.HomePage != gen.MPASSHomePage || f.Actor.Account.Name == "" {
			t.Fatalf("statement %d: actor %+v, Agent %s", i, f.Actor, st.Agent)
		}
		if f.Verb.ID != st.Verb || f.Object.ID != st.Activity || f.Context.Registration != st.Registration {
			t.Fatalf("statement %d: verb/object/registration %q %q %q, Statement says %q %q %q", i,
				f.Verb.ID, f.Object.ID, f.Context.Registration, st.Verb, st.Activity, st.Registration)
		}
		found := false
		for _, list := range f.Context.ContextActivities {
			for _, a := range list {
				found = found || a.ID == st.Parent
			}
		}
		if !found {
			t.Fatalf("statement %d: Parent %q is not among its context activities", i, st.Parent)
		}
		if f.Context.Platform == "" || f.Context.Language == "" {
			t.Fatalf("statement %d has no platform or language", i)
		}
		verbs[f.Verb.ID]++
		if st.Registration != "" {
			withReg++
		}
		if f.Context.Instructor != nil {
			withInstructor++
		}
		if f.Result != nil && f.Result.Score != nil {
			withScore++
		}
		for k := range f.Context.Extensions {
			if bytes.Count([]byte(k), []byte(".")) >= 3 {
				dottedExt++
				break
			}
		}
	}
	for _, v := range gen.Verbs() {
		if verbs[v] == 0 {
			t.Errorf("no statement has verb %s", v)
		}
	}
	for v := range verbs {
		if !slices.Contains(gen.Verbs(), v) {
			t.Errorf("verb %s is not in Verbs()", v)
		}
	}
	for name, got := range map[string]int{"registration": withReg, "instructor": withInstructor, "score": withScore, "dotted extension key": dottedExt} {
		if got == 0 || got == n && name != "dotted extension key" {
			t.Errorf("%d of %d statements have a %s, want some but not all", got, n, name)
		}
	}
}

func BenchmarkStatement(b *testing.B) {
	g := MustNew(b, gen.Config{Seed: 1})
	var bytes int
	i := uint64(0)
	for b.Loop() {
		bytes += len(g.Statement(i).JSON)
		i++
	}
	b.SetBytes(int64(bytes / max(1, int(i))))
}
