package sqlitestore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

// The statements of the crash tests: statement i has learner i%7, verb
// i%3 and activity i%5.
const (
	killLearners   = 7
	killVerbs      = 3
	killActivities = 5
)

func killActor(i int) string {
	return fmt.Sprintf(`{"account":{"homePage":"https://id.example.org","name":"learner-%d"}}`, i%killLearners)
}
func killVerb(i int) string { return fmt.Sprintf("https://example.org/verbs/v%d", i%killVerbs) }
func killActivity(i int) string {
	return fmt.Sprintf("https://example.org/activities/a%d", i%killActivities)
}
func killID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func killStatement(i int) []byte {
	return fmt.Appendf(nil, `{"id":%q,"actor":%s,"verb":{"id":%q},"object":{"id":%q}}`,
		killID(i), killActor(i), killVerb(i), killActivity(i))
}

// TestStore_Killed kills a process that stores statements (SIGKILL) while
// their postings are in memory only, and while a merge is under way, then
// opens the store again: every acknowledged statement is found by every
// filter that matches it, from memory and from the postings table.
func TestStore_Killed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cases := []struct {
		name  string
		every string // WithMergeEvery of the process killed
		kill  func(line string, acks int) bool
	}{
		{"in memory", "0", func(_ string, acks int) bool { return acks >= 400 }},
		// The third merge sleeps in its transaction, before its commit.
		{"merging", "30", func(line string, acks int) bool { return line == "merging 3" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestStore_KilledChild$")
			cmd.Env = append(os.Environ(), "LRS_KILL_DIR="+dir, "LRS_KILL_MERGE_EVERY="+c.every)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var acked []int
			killed := false
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "ack "); ok {
					i, err := strconv.Atoi(n)
					if err != nil {
						t.Fatalf("child: %q", line)
					}
					acked = append(acked, i)
				}
				if c.kill(line, len(acked)) {
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					killed = true
					break
				}
			}
			cmd.Wait()
			if !killed {
				t.Fatalf("the child ended before it was killed, after %d acknowledgements", len(acked))
			}

			s, err := New(t.Context(), dir, WithMergeEvery(0))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			pending := s.recent.pending.Load()
			var merged int64
			if err := s.r.QueryRowContext(t.Context(), qMergedThrough).Scan(&merged); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d acknowledged; after the restart %d statements in memory, M = %d", len(acked), pending, merged)
			if pending == 0 {
				t.Error("no statement in memory after the restart")
			}
			if c.name == "merging" && merged == 0 {
				t.Error("M = 0: no merge committed before the kill")
			}
			checkKillFilters(t, s, acked)
			// Merged into the table, they are still found.
			s.ws <- struct{}{}
			err = s.mergeAll(t.Context())
			<-s.ws
			if err != nil {
				t.Fatal(err)
			}
			if n := s.recent.pending.Load(); n != 0 {
				t.Errorf("after merging all: %d statements in memory", n)
			}
			checkKillFilters(t, s, acked)
		})
	}
}

// checkKillFilters checks that every statement of acked is found by each
// filter of its learner, verb and activity, alone and together, and that
// no page repeats a statement.
func checkKillFilters(t *testing.T, s *Store, acked []int) {
	t.Helper()
	type key struct{ learner, verb, activity int } // -1: any
	found := map[key]map[string]bool{}
	query := func(k key) map[string]bool {
		if m, ok := found[k]; ok {
			return m
		}
		var f statements.Filter
		if k.learner >= 0 {
			a, err := statements.AgentKey([]byte(killActor(k.learner)))
			if err != nil {
				t.Fatal(err)
			}
			f.Agent = a
		}
		if k.verb >= 0 {
			f.Verb = killVerb(k.verb)
		}
		if k.activity >= 0 {
			f.Activity = killActivity(k.activity)
		}
		f.Limit = 37
		m := map[string]bool{}
		for {
			p, err := s.QueryStatements(t.Context(), "t", f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Records {
				if m[r.ID] {
					t.Errorf("filter %+v: %s twice", k, r.ID)
				}
				m[r.ID] = true
			}
			if !p.More {
				break
			}
			f.After = p.Records[len(p.Records)-1].Position
		}
		found[k] = m
		return m
	}
	missing := 0
	for _, i := range acked {
		l, v, a := i%killLearners, i%killVerbs, i%killActivities
		for _, k := range []key{{l, -1, -1}, {-1, v, -1}, {-1, -1, a}, {l, v, -1}, {l, -1, a}, {l, v, a}} {
			if !query(k)[killID(i)] {
				missing++
				if missing <= 10 {
					t.Errorf("statement %d acknowledged, not found by filter %+v", i, k)
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d misses", missing)
	}
}

// TestStore_KilledChild is the process TestStore_Killed kills: it stores
// batches of statements from four writers and prints "ack i" for each
// statement stored, and "merging n" in the nth merge transaction.
func TestStore_KilledChild(t *testing.T) {
	dir := os.Getenv("LRS_KILL_DIR")
	if dir == "" {
		t.Skip("the process of TestStore_Killed")
	}
	every, err := strconv.Atoi(os.Getenv("LRS_KILL_MERGE_EVERY"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stdout, s)
	}
	var merges atomic.Int64
	mergeHook = func() {
		n := merges.Add(1)
		say(fmt.Sprint("merging ", n))
		if n == 3 {
			time.Sleep(time.Minute) // killed meanwhile
		}
	}
	s, err := New(t.Context(), dir, WithMergeEvery(every))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := 0; ; k += 3 {
				base := g*1_000_000 + k
				recs := make([]*statements.Record, 3)
				for j := range recs {
					recs[j] = storetest.Record(t, killStatement(base+j))
				}
				if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
					t.Error(err)
					return
				}
				for j := range recs {
					say(fmt.Sprint("ack ", base+j))
				}
			}
		})
	}
	wg.Wait()
}
