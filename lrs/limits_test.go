package lrs

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// TestLoginGuard_Bounded: failures of any number of distinct keys and
// addresses, however long the keys, keep a bounded table of fixed-size
// entries, and the newest failures still count.
func TestLoginGuard_Bounded(t *testing.T) {
	g := newLoginGuard()
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	long := strings.Repeat("k", 64<<10)
	for i := range maxLoginFailures + maxLoginFailures/2 {
		g.failed(fmt.Sprintf("%s-%d", long[:i%1000], i), fmt.Sprintf("10.0.%d.%d", i/256%256, i%256), now, scaleLogins(1))
		now = now.Add(time.Millisecond)
	}
	if n := len(g.failures); n > maxLoginFailures {
		t.Errorf("failures kept: %d, want at most %d", n, maxLoginFailures)
	}
	for range freeKeyFailures + 1 {
		g.failed(long, "192.0.2.1", now, scaleLogins(1))
	}
	if w := g.wait(long, "192.0.2.1", now); w <= 0 {
		t.Errorf("the newest key's failures do not count after pruning: wait %v", w)
	}
}

func TestLogKey(t *testing.T) {
	if got := logKey(strings.Repeat("x", 1<<20)); len(got) > 64 {
		t.Errorf("logKey of 1 MiB: %d bytes", len(got))
	}
	if got := logKey("short-key"); got != "short-key" {
		t.Errorf("logKey(short-key) = %q", got)
	}
}

// TestBatchCounter: the elements of a top-level array are counted however
// their bytes arrive; strings, nesting and other bodies do not count.
func TestBatchCounter(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{`[]`, 0},
		{` [ ] `, 0},
		{`{"a":[1,2,3],"b":"[x,y]"}`, 0},
		{`[{}]`, 1},
		{`[{},{}]`, 2},
		{"[\n {\"a\":[1,2]} ,\n {\"b\":{\"c\":[[],[]]}}\n]", 2},
		{`[{"s":"a, [b], {c}, \"d\\\", ]"},{}]`, 2},
		{`[{"s":"\\"},{}]`, 2},
		{`[1,"two",[3,4],null]`, 4},
		{`[{},{},]`, 2},
		{`"[1,2]"`, 0},
	} {
		for _, piece := range []int{1, 2, 3, len(tc.body)} {
			var b batchCounter
			var got int
			for i := 0; i < len(tc.body); i += piece {
				got = b.add([]byte(tc.body[i:min(i+piece, len(tc.body))]))
			}
			if got != tc.want {
				t.Errorf("%s in pieces of %d: %d, want %d", tc.body, piece, got, tc.want)
			}
		}
	}
}

func TestSpoolError(t *testing.T) {
	full := &os.PathError{Op: "write", Path: "/tmp/lrs-attachments-1", Err: syscall.ENOSPC}
	if got := statements.ErrorCode(spoolError(full)); got != statements.EUnavailable {
		t.Errorf("spool on a full temp dir: code %q, want %q", got, statements.EUnavailable)
	}
	perm := &os.PathError{Op: "open", Path: "/tmp/x", Err: syscall.EACCES}
	if got := statements.ErrorCode(spoolError(perm)); got != statements.EInternal {
		t.Errorf("spool without permission: code %q, want %q", got, statements.EInternal)
	}
}
