package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// sinkItemTests check statements.SinkStore; every store implements it.
var sinkItemTests = []test{
	{"Create", testSinkItemCreate},
	{"CompareAndSwap", testSinkItemCAS},
	{"Isolation", testSinkItemIsolation},
	{"Value", testSinkItemValue},
	{"Delete", testSinkItemDelete},
	{"Query", testSinkItemQuery},
	{"ErrInvalid", testSinkItemInvalid},
	{"ConcurrentCAS", testSinkItemConcurrent},
}

// The sink of the suite's items.
const sinkOR = "oneroster"

func mustPutSinkItem(t testing.TB, ss statements.SinkStore, it *statements.SinkItem) {
	t.Helper()
	if err := ss.PutSinkItem(t.Context(), it); err != nil {
		t.Fatalf("PutSinkItem(%s %s %s @%d): %v", it.Sink, it.Tenant, it.Key, it.Version, err)
	}
}

func mustSinkItem(t testing.TB, ss statements.SinkStore, sink, tenant, key string) *statements.SinkItem {
	t.Helper()
	it, err := ss.SinkItem(t.Context(), sink, tenant, key)
	if err != nil {
		t.Fatalf("SinkItem(%s %s %s): %v", sink, tenant, key, err)
	}
	return it
}

func wantNoSinkItem(t testing.TB, ss statements.SinkStore, sink, tenant, key string) {
	t.Helper()
	_, err := ss.SinkItem(t.Context(), sink, tenant, key)
	wantCode(t, err, statements.ENotFound)
}

// wantSameSinkItem checks an item read from the store against the one
// written.
func wantSameSinkItem(t testing.TB, got, want *statements.SinkItem) {
	t.Helper()
	if got.Sink != want.Sink || got.Tenant != want.Tenant || got.Key != want.Key {
		t.Errorf("name: got %s %s %s, want %s %s %s", got.Sink, got.Tenant, got.Key, want.Sink, want.Tenant, want.Key)
	}
	if !bytes.Equal(got.Value, want.Value) {
		t.Errorf("Value of %s: got %q, want %q", want.Key, got.Value, want.Value)
	}
	if got.State != want.State {
		t.Errorf("State of %s: got %q, want %q", want.Key, got.State, want.State)
	}
	if !got.Due.Equal(want.Due) {
		t.Errorf("Due of %s: got %v, want %v", want.Key, got.Due, want.Due)
	}
	if got.Version != want.Version {
		t.Errorf("Version of %s: got %d, want %d", want.Key, got.Version, want.Version)
	}
	if !got.Updated.Equal(want.Updated) {
		t.Errorf("Updated of %s: got %v, want %v", want.Key, got.Updated, want.Updated)
	}
}

// dueAt is a due time in the future, with millisecond precision.
var dueAt = time.Date(2031, 5, 4, 3, 2, 1, 123e6, time.UTC)

func testSinkItemCreate(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	wantNoSinkItem(t, ss, sinkOR, tenantA, "result/1")

	before := time.Now().Truncate(time.Millisecond)
	it := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "result/1", Value: []byte(`{"score":1}`),
		State: "pending", Due: dueAt}
	mustPutSinkItem(t, ss, it)
	after := time.Now()
	if it.Version != 1 {
		t.Errorf("Version after create: got %d, want 1", it.Version)
	}
	if it.Updated.Before(before) || it.Updated.After(after) {
		t.Errorf("Updated after create: got %v, want between %v and %v", it.Updated, before, after)
	}
	if !it.Updated.Equal(it.Updated.Truncate(time.Millisecond)) {
		t.Errorf("Updated: got %v, want millisecond precision", it.Updated)
	}
	wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "result/1"), it)

	// Version 0 says there is none: a second create conflicts.
	again := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "result/1", Value: []byte("other")}
	wantCode(t, ss.PutSinkItem(t.Context(), again), statements.EConflict)
	wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "result/1"), it)
}

func testSinkItemCAS(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	it := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "k", Value: []byte("v1"), State: "pending", Due: dueAt}
	mustPutSinkItem(t, ss, it)

	// The version read: the write succeeds and bumps it.
	got := mustSinkItem(t, ss, sinkOR, tenantA, "k")
	got.Value, got.State, got.Due = []byte("v2"), "sent", time.Time{}
	mustPutSinkItem(t, ss, got)
	if got.Version != 2 {
		t.Errorf("Version after update: got %d, want 2", got.Version)
	}
	if got.Updated.Before(it.Updated) {
		t.Errorf("Updated after update: got %v, before the create's %v", got.Updated, it.Updated)
	}
	wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "k"), got)

	// A stale version, and one ahead, conflict and change nothing.
	for _, v := range []int64{1, 3} {
		stale := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "k", Value: []byte("lost"), Version: v}
		wantCode(t, ss.PutSinkItem(t.Context(), stale), statements.EConflict)
		if stale.Version != v {
			t.Errorf("Version after a conflict: got %d, want %d", stale.Version, v)
		}
		wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "k"), got)
	}

	// A version on a missing item conflicts and creates nothing.
	ghost := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "ghost", Version: 1}
	wantCode(t, ss.PutSinkItem(t.Context(), ghost), statements.EConflict)
	wantNoSinkItem(t, ss, sinkOR, tenantA, "ghost")

	got.Value = []byte("v3")
	mustPutSinkItem(t, ss, got)
	if got.Version != 3 {
		t.Errorf("Version after the second update: got %d, want 3", got.Version)
	}
	wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "k"), got)
}

func testSinkItemIsolation(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	var items []*statements.SinkItem
	for _, sink := range []string{sinkOR, "webhook"} {
		for _, tenant := range []string{tenantA, tenantB, ""} {
			it := &statements.SinkItem{Sink: sink, Tenant: tenant, Key: "config", Value: []byte(sink + "/" + tenant)}
			mustPutSinkItem(t, ss, it)
			if it.Version != 1 {
				t.Errorf("Version of %s %q: got %d, want 1 (a separate item)", sink, tenant, it.Version)
			}
			items = append(items, it)
		}
	}
	wantNoSinkItem(t, ss, "kafka", tenantA, "config")
	wantNoSinkItem(t, ss, sinkOR, "tenant-c", "config")

	// Writing and deleting one leaves the others as they were.
	items[0].Value = []byte("changed")
	mustPutSinkItem(t, ss, items[0])
	if err := ss.DeleteSinkItem(t.Context(), sinkOR, tenantB, "config", 0); err != nil {
		t.Fatalf("DeleteSinkItem: %v", err)
	}
	wantNoSinkItem(t, ss, sinkOR, tenantB, "config")
	for i, want := range items {
		if i == 1 {
			continue
		}
		wantSameSinkItem(t, mustSinkItem(t, ss, want.Sink, want.Tenant, want.Key), want)
	}
}

func testSinkItemValue(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := map[string][]byte{
		"nil":    nil,
		"empty":  {},
		"binary": all,
		"latin1": {'c', 0xe9, 'l', 0xe8, 'b', 'r', 'e', 0},
		"json":   []byte(`{"a":"ü","b":[1,2]}` + "\n"),
	}
	for key, v := range values {
		it := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: key, Value: v}
		mustPutSinkItem(t, ss, it)
		wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, key), it)
	}
	got, err := ss.SinkItems(t.Context(), statements.SinkQuery{Sink: sinkOR})
	if err != nil {
		t.Fatalf("SinkItems: %v", err)
	}
	if len(got) != len(values) {
		t.Fatalf("SinkItems: %d items, want %d", len(got), len(values))
	}
	for _, it := range got {
		if !bytes.Equal(it.Value, values[it.Key]) {
			t.Errorf("listed Value of %s: got %q, want %q", it.Key, it.Value, values[it.Key])
		}
	}
}

func testSinkItemDelete(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	ctx := t.Context()
	put := func(key string) *statements.SinkItem {
		t.Helper()
		it := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: key, Value: []byte(key), State: "pending", Due: dueAt}
		mustPutSinkItem(t, ss, it)
		return it
	}
	t.Run("AnyVersion", func(t *testing.T) {
		it := put("any")
		it.Value = []byte("second")
		mustPutSinkItem(t, ss, it)
		if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "any", 0); err != nil {
			t.Fatalf("DeleteSinkItem(version 0): %v", err)
		}
		wantNoSinkItem(t, ss, sinkOR, tenantA, "any")
	})
	t.Run("ErrConflict", func(t *testing.T) {
		it := put("cas")
		it.Value = []byte("second")
		mustPutSinkItem(t, ss, it) // version 2
		for _, v := range []int64{1, 3} {
			wantCode(t, ss.DeleteSinkItem(ctx, sinkOR, tenantA, "cas", v), statements.EConflict)
		}
		wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "cas"), it)
		if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "cas", 2); err != nil {
			t.Fatalf("DeleteSinkItem(version 2): %v", err)
		}
		wantNoSinkItem(t, ss, sinkOR, tenantA, "cas")
	})
	t.Run("Missing", func(t *testing.T) {
		for _, v := range []int64{0, 1} {
			if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "never", v); err != nil {
				t.Errorf("DeleteSinkItem of a missing item (version %d): %v", v, err)
			}
		}
		put("twice")
		for range 2 {
			if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "twice", 0); err != nil {
				t.Errorf("DeleteSinkItem: %v", err)
			}
		}
	})
	t.Run("CreateAgain", func(t *testing.T) {
		put("again")
		if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "again", 1); err != nil {
			t.Fatalf("DeleteSinkItem: %v", err)
		}
		// Not listed either, under any of its old selections.
		for _, q := range []statements.SinkQuery{{Sink: sinkOR, KeyPrefix: "again"},
			{Sink: sinkOR, State: "pending", DueBy: dueAt}} {
			got, err := ss.SinkItems(ctx, q)
			if err != nil {
				t.Fatalf("SinkItems: %v", err)
			}
			if slices.ContainsFunc(got, func(it statements.SinkItem) bool { return it.Key == "again" }) {
				t.Errorf("SinkItems(%+v) lists a deleted item", q)
			}
		}
		stale := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "again", Version: 1}
		wantCode(t, ss.PutSinkItem(ctx, stale), statements.EConflict)
		it := &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "again", Value: []byte("new"), State: "sent"}
		mustPutSinkItem(t, ss, it)
		if it.Version != 1 {
			t.Errorf("Version of a created again item: got %d, want 1", it.Version)
		}
		wantSameSinkItem(t, mustSinkItem(t, ss, sinkOR, tenantA, "again"), it)
	})
}

// sinkNames returns tenant/key of each item.
func sinkNames(items []statements.SinkItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Tenant + "/" + it.Key
	}
	return out
}

func testSinkItemQuery(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	ctx := t.Context()
	due := func(n int) time.Time { return dueAt.Add(time.Duration(n) * time.Minute) }
	written := map[string]*statements.SinkItem{}
	put := func(sink, tenant, key, state string, due time.Time) *statements.SinkItem {
		t.Helper()
		it := &statements.SinkItem{Sink: sink, Tenant: tenant, Key: key, Value: []byte(tenant + key), State: state, Due: due}
		if old, ok := written[sink+"/"+tenant+"/"+key]; ok {
			it.Version = old.Version
		}
		mustPutSinkItem(t, ss, it)
		written[sink+"/"+tenant+"/"+key] = it
		return it
	}
	// Written out of order; some items change or go, so that older
	// versions of them would match the queries.
	put(sinkOR, tenantB, "result/1", "pending", due(2))
	put(sinkOR, tenantA, "result/3", "dead", time.Time{})
	put(sinkOR, tenantA, "result/2", "dead", time.Time{})
	put(sinkOR, tenantA, "result/2", "pending", due(3))
	put(sinkOR, tenantA, "result/1", "pending", due(1))
	put(sinkOR, tenantA, "config", "", time.Time{})
	put(sinkOR, tenantA, "result/5", "pending", due(1))
	put(sinkOR, tenantA, "result/5", "sent", time.Time{})
	put(sinkOR, tenantA, "result/4", "pending", due(1))
	if err := ss.DeleteSinkItem(ctx, sinkOR, tenantA, "result/4", 0); err != nil {
		t.Fatalf("DeleteSinkItem: %v", err)
	}
	put(sinkOR, tenantA, "resulu", "pending", due(1)) // not under "result/"
	put("webhook", tenantA, "result/9", "pending", due(0))

	all := []string{tenantA + "/config", tenantA + "/result/1", tenantA + "/result/2", tenantA + "/result/3",
		tenantA + "/result/5", tenantA + "/resulu", tenantB + "/result/1"}
	tests := []struct {
		name string
		q    statements.SinkQuery
		want []string
	}{
		{"All", statements.SinkQuery{Sink: sinkOR}, all},
		{"OtherSink", statements.SinkQuery{Sink: "webhook"}, []string{tenantA + "/result/9"}},
		{"NoSuchSink", statements.SinkQuery{Sink: "kafka"}, nil},
		{"Tenant", statements.SinkQuery{Sink: sinkOR, Tenant: tenantB}, []string{tenantB + "/result/1"}},
		{"NoSuchTenant", statements.SinkQuery{Sink: sinkOR, Tenant: "tenant-c"}, nil},
		{"KeyPrefix", statements.SinkQuery{Sink: sinkOR, KeyPrefix: "result/"},
			[]string{tenantA + "/result/1", tenantA + "/result/2", tenantA + "/result/3", tenantA + "/result/5", tenantB + "/result/1"}},
		{"KeyPrefixWhole", statements.SinkQuery{Sink: sinkOR, KeyPrefix: "result/2"}, []string{tenantA + "/result/2"}},
		{"KeyPrefixNone", statements.SinkQuery{Sink: sinkOR, KeyPrefix: "result/.*"}, nil},
		{"State", statements.SinkQuery{Sink: sinkOR, State: "pending"},
			[]string{tenantA + "/result/1", tenantA + "/result/2", tenantA + "/resulu", tenantB + "/result/1"}},
		{"StateChanged", statements.SinkQuery{Sink: sinkOR, State: "sent"}, []string{tenantA + "/result/5"}},
		{"DueBy", statements.SinkQuery{Sink: sinkOR, DueBy: due(2)}, // at or before
			[]string{tenantA + "/result/1", tenantA + "/resulu", tenantB + "/result/1"}},
		{"DueByEarly", statements.SinkQuery{Sink: sinkOR, DueBy: due(1).Add(-time.Millisecond)}, nil},
		{"DueByZeroNever", statements.SinkQuery{Sink: sinkOR, State: "dead", DueBy: due(100)}, nil},
		{"Combined", statements.SinkQuery{Sink: sinkOR, Tenant: tenantA, KeyPrefix: "result/", State: "pending", DueBy: due(5)},
			[]string{tenantA + "/result/1", tenantA + "/result/2"}},
		{"After", statements.SinkQuery{Sink: sinkOR, AfterTenant: tenantA, AfterKey: "result/2"},
			[]string{tenantA + "/result/3", tenantA + "/result/5", tenantA + "/resulu", tenantB + "/result/1"}},
		{"AfterTenant", statements.SinkQuery{Sink: sinkOR, AfterTenant: tenantA, AfterKey: "resulu"}, []string{tenantB + "/result/1"}},
		{"AfterLast", statements.SinkQuery{Sink: sinkOR, AfterTenant: tenantB, AfterKey: "result/1"}, nil},
		{"AfterFiltered", statements.SinkQuery{Sink: sinkOR, State: "pending", AfterTenant: tenantA, AfterKey: "result/1"},
			[]string{tenantA + "/result/2", tenantA + "/resulu", tenantB + "/result/1"}},
		{"Limit", statements.SinkQuery{Sink: sinkOR, Limit: 3}, all[:3]},
		{"LimitFiltered", statements.SinkQuery{Sink: sinkOR, State: "pending", Limit: 2},
			[]string{tenantA + "/result/1", tenantA + "/result/2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ss.SinkItems(ctx, tc.q)
			if err != nil {
				t.Fatalf("SinkItems(%+v): %v", tc.q, err)
			}
			if names := sinkNames(got); !slices.Equal(names, tc.want) {
				t.Fatalf("SinkItems(%+v):\n got %v\nwant %v", tc.q, names, tc.want)
			}
			for i := range got {
				wantSameSinkItem(t, &got[i], written[got[i].Sink+"/"+got[i].Tenant+"/"+got[i].Key])
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		q := statements.SinkQuery{Sink: sinkOR, Limit: 2}
		var names []string
		for range len(all) + 1 {
			page, err := ss.SinkItems(ctx, q)
			if err != nil {
				t.Fatalf("SinkItems(%+v): %v", q, err)
			}
			if len(page) > 2 {
				t.Fatalf("SinkItems(%+v): %d items", q, len(page))
			}
			if len(page) == 0 {
				break
			}
			names = append(names, sinkNames(page)...)
			last := page[len(page)-1]
			q.AfterTenant, q.AfterKey = last.Tenant, last.Key
		}
		if !slices.Equal(names, all) {
			t.Fatalf("pages:\n got %v\nwant %v", names, all)
		}
	})
}

func testSinkItemInvalid(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	for _, it := range []*statements.SinkItem{{Tenant: tenantA, Key: "k"}, {Sink: sinkOR, Tenant: tenantA}} {
		wantCode(t, ss.PutSinkItem(t.Context(), it), statements.EInvalid)
	}
	_, err := ss.SinkItems(t.Context(), statements.SinkQuery{Tenant: tenantA})
	wantCode(t, err, statements.EInvalid)
}

// testSinkItemConcurrent has writers increment one counter by
// read-modify-write, retrying on EConflict: no increment is lost.
func testSinkItemConcurrent(t *testing.T, s statements.Store) {
	var ss statements.SinkStore = s
	ctx := t.Context()
	mustPutSinkItem(t, ss, &statements.SinkItem{Sink: sinkOR, Tenant: tenantA, Key: "counter", Value: []byte("0")})
	writers, increments := 8, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt == 1000 {
						t.Error("an increment conflicted 1000 times")
						return
					}
					it, err := ss.SinkItem(ctx, sinkOR, tenantA, "counter")
					if err != nil {
						t.Errorf("SinkItem: %v", err)
						return
					}
					n, err := strconv.Atoi(string(it.Value))
					if err != nil {
						t.Errorf("counter %q: %v", it.Value, err)
						return
					}
					it.Value = []byte(strconv.Itoa(n + 1))
					err = ss.PutSinkItem(ctx, it)
					if err == nil {
						break
					}
					if statements.ErrorCode(err) != statements.EConflict {
						t.Errorf("PutSinkItem: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	got := mustSinkItem(t, ss, sinkOR, tenantA, "counter")
	if want := fmt.Sprint(writers * increments); string(got.Value) != want {
		t.Errorf("counter: got %s, want %s", got.Value, want)
	}
	if want := int64(writers*increments + 1); got.Version != want {
		t.Errorf("Version: got %d, want %d", got.Version, want)
	}
}
