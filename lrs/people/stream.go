package people

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digione/lrs/statements"
)

// DefaultPoll is how often a Hub reads the log when no write of its own
// process wakes it: statements other processes store arrive within it.
const DefaultPoll = 500 * time.Millisecond

// SubscriptionBuffer is how many statements a subscription holds for a
// slow reader, and SubscriptionBytes how many bytes of them; past either
// the subscription ends (Lost), and the reader starts again from a query.
const (
	SubscriptionBuffer = 256
	SubscriptionBytes  = 4 << 20
)

// Hub hands each statement the store logs to the subscriptions whose
// agents made it. One goroutine reads the log for every subscription, and
// only while there is one.
type Hub struct {
	Log  statements.Log
	Poll time.Duration // default DefaultPoll

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	byAgent map[string]map[*Subscription]struct{} // by tenant and agent key (agentID)
	wake    chan struct{}
	stop    context.CancelFunc
	running sync.WaitGroup
}

// Subscription receives the statements of some agents of one tenant.
type Subscription struct {
	// C receives the statements, in log order; it is closed when the
	// subscription ends. The reader calls Took with each one it takes.
	C chan *statements.Record

	pending atomic.Int64 // bytes sent on C and not yet taken

	hub    *Hub
	tenant string
	agents map[string]bool
	lost   bool
	closed bool
}

// Subscribe returns a subscription to the statements whose actor is one
// of agents (keys, statements.Actor.Key) in tenant, from now on.
func (h *Hub) Subscribe(ctx context.Context, tenant string, agents []string) *Subscription {
	s := &Subscription{C: make(chan *statements.Record, SubscriptionBuffer), hub: h, tenant: tenant, agents: map[string]bool{}}
	for _, a := range agents {
		s.agents[a] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*Subscription]struct{}{}
		h.byAgent = map[string]map[*Subscription]struct{}{}
		h.wake = make(chan struct{}, 1)
	}
	h.subs[s] = struct{}{}
	for a := range s.agents {
		id := agentID(tenant, a)
		if h.byAgent[id] == nil {
			h.byAgent[id] = map[*Subscription]struct{}{}
		}
		h.byAgent[id][s] = struct{}{}
	}
	if h.stop == nil {
		// The first subscription starts the reader at the head of the log.
		head, err := h.Log.LogHead(ctx)
		if err != nil {
			head = -1 // read the head once running
		}
		rctx, cancel := context.WithCancel(context.Background())
		h.stop = cancel
		h.running.Add(1)
		go h.run(rctx, head)
	}
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(s)
	if len(h.subs) == 0 && h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// drop ends s and forgets it; h.mu is held.
func (h *Hub) drop(s *Subscription) {
	s.end()
	delete(h.subs, s)
	for a := range s.agents {
		id := agentID(s.tenant, a)
		delete(h.byAgent[id], s)
		if len(h.byAgent[id]) == 0 {
			delete(h.byAgent, id)
		}
	}
}

// agentID is the key of an agent of a tenant in Hub.byAgent.
func agentID(tenant, agent string) string { return tenant + "\x00" + agent }

// Took tells the subscription that the reader has taken r from C.
func (s *Subscription) Took(r *statements.Record) { s.pending.Add(-int64(len(r.Statement))) }

// Lost reports whether the subscription ended because its reader fell
// behind (and not by Close).
func (s *Subscription) Lost() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.lost
}

func (s *Subscription) end() {
	if !s.closed {
		s.closed = true
		close(s.C)
	}
}

// Notify wakes the reader: a statement was stored.
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wake != nil {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// Wait waits for the reader to stop after the last subscription closed.
func (h *Hub) Wait() { h.running.Wait() }

func (h *Hub) run(ctx context.Context, after int64) {
	defer h.running.Done()
	poll := h.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if after < 0 {
			if head, err := h.Log.LogHead(ctx); err == nil {
				after = head
			}
		} else {
			after = h.read(ctx, after)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.wake:
		}
	}
}

// read hands out the log past after and returns the last position read.
func (h *Hub) read(ctx context.Context, after int64) int64 {
	for {
		entries, err := h.Log.ReadLog(ctx, after, statements.MaxLimit)
		if err != nil || len(entries) == 0 {
			return after
		}
		h.mu.Lock()
		for _, e := range entries {
			if len(h.subs) == 0 {
				break
			}
			// One look-up per statement, whatever the number of
			// subscriptions.
			subs := h.byAgent[agentID(e.Tenant, ActorKey(e.Record.Statement))]
			size := int64(len(e.Record.Statement))
			for s := range subs {
				if s.pending.Load()+size > SubscriptionBytes {
					s.lost = true
					h.drop(s)
					continue
				}
				select {
				case s.C <- e.Record:
					s.pending.Add(size)
				default:
					s.lost = true
					h.drop(s)
				}
			}
		}
		if len(h.subs) == 0 && h.stop != nil {
			h.stop()
			h.stop = nil
		}
		h.mu.Unlock()
		after = entries[len(entries)-1].Record.Position
		if len(entries) < statements.MaxLimit {
			return after
		}
	}
}
