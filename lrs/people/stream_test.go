package people_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// memLog is a log in memory, to drive a Hub at will.
type memLog struct {
	statements.Log
	mu      sync.Mutex
	entries []statements.LogEntry
}

func (l *memLog) add(tenant, actor string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pos := int64(len(l.entries) + 1)
	st := fmt.Sprintf(`{"actor":{"account":{"homePage":"https://id.test","name":%q}}}`, actor)
	l.entries = append(l.entries, statements.LogEntry{Tenant: tenant, Record: &statements.Record{Statement: []byte(st), Position: pos}})
}

func (l *memLog) LogHead(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.entries)), nil
}

func (l *memLog) ReadLog(_ context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.entries)) {
		return nil, nil
	}
	return l.entries[after:min(int(after)+limit, len(l.entries))], nil
}

func agent(name string) string {
	a := statements.Actor{Account: &statements.Account{HomePage: "https://id.test", Name: name}}
	return a.Key()
}

func TestHub(t *testing.T) {
	log := &memLog{}
	log.add("t1", "u1") // before any subscription: never sent
	hub := &people.Hub{Log: log, Poll: 10 * time.Millisecond}

	t.Run("Filters", func(t *testing.T) {
		sub := hub.Subscribe(t.Context(), "t1", []string{agent("u1"), agent("u2")})
		log.add("t2", "u1") // another tenant's u1
		log.add("t1", "u3")
		log.add("t1", "u2")
		hub.Notify()
		select {
		case r := <-sub.C:
			if r.Position != 4 {
				t.Errorf("first statement sent: position %d, want 4 (t1's u2)", r.Position)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing sent")
		}
		select {
		case r := <-sub.C:
			t.Errorf("sent position %d too", r.Position)
		case <-time.After(50 * time.Millisecond):
		}
		sub.Close()
		hub.Wait()
		if _, open := <-sub.C; open {
			t.Error("a closed subscription's channel is open")
		}
	})

	t.Run("Lost", func(t *testing.T) {
		sub := hub.Subscribe(t.Context(), "t1", []string{agent("u1")})
		defer sub.Close()
		for range people.SubscriptionBuffer + 1 {
			log.add("t1", "u1")
		}
		hub.Notify()
		for deadline := time.Now().Add(5 * time.Second); !sub.Lost() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		if !sub.Lost() {
			t.Fatal("a reader that fell behind by more than the buffer is not lost")
		}
		n := 0
		for r := range sub.C {
			sub.Took(r)
			n++
		}
		if !sub.Lost() || n != people.SubscriptionBuffer {
			t.Errorf("a reader that fell behind: lost %v after %d statements, want lost after %d", sub.Lost(), n, people.SubscriptionBuffer)
		}
	})
}

func TestHub_LostByBytes(t *testing.T) {
	log := &memLog{}
	hub := &people.Hub{Log: log, Poll: 10 * time.Millisecond}
	sub := hub.Subscribe(t.Context(), "t1", []string{agent("u1")})
	defer sub.Close()
	// Statements of 100 KiB each: the bytes run out before the count.
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = 'x'
	}
	for range 50 {
		log.mu.Lock()
		pos := int64(len(log.entries) + 1)
		st := fmt.Sprintf(`{"actor":{"account":{"homePage":"https://id.test","name":"u1"}},"pad":%q}`, big)
		log.entries = append(log.entries, statements.LogEntry{Tenant: "t1", Record: &statements.Record{Statement: []byte(st), Position: pos}})
		log.mu.Unlock()
	}
	hub.Notify()
	for deadline := time.Now().Add(5 * time.Second); !sub.Lost() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	n := 0
	for range sub.C {
		n++
	}
	if !sub.Lost() || n >= 50 || n*100<<10 > people.SubscriptionBytes {
		t.Errorf("a slow reader of big statements: lost %v after %d, want lost within %d bytes", sub.Lost(), n, people.SubscriptionBytes)
	}
}
