package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connGuard bounds the connections the HTTP server keeps open: at most
// max in all and perAddr from one client address (0: no bound). When the
// server is full, a new connection takes the place of the connection idle
// the longest; when none is idle, the new one is closed at once. So idle
// keep-alive connections, however many a client opens, never keep another
// client (or a health probe) out.
type connGuard struct {
	max, perAddr int
	exempt       func(ip string) bool // addresses without a per-address bound (trusted proxies); nil: none

	mu     sync.Mutex
	conns  map[net.Conn]*connEntry
	byAddr map[string]int
}

type connEntry struct {
	addr      string
	idle      bool
	idleSince time.Time
}

func newConnGuard(max, perAddr int) *connGuard {
	return &connGuard{max: max, perAddr: perAddr, conns: map[net.Conn]*connEntry{}, byAddr: map[string]int{}}
}

// Listener returns ln with the guard on the connections it accepts.
func (g *connGuard) Listener(ln net.Listener) net.Listener {
	return &guardedListener{Listener: ln, g: g}
}

// ConnState is the http.Server's ConnState hook: it follows which
// connections are idle and forgets closed ones.
func (g *connGuard) ConnState(c net.Conn, st http.ConnState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.conns[c]
	if e == nil {
		return
	}
	switch st {
	case http.StateIdle:
		e.idle, e.idleSince = true, time.Now()
	case http.StateActive:
		e.idle = false
	case http.StateClosed, http.StateHijacked:
		g.forget(c, e)
	}
}

func (g *connGuard) forget(c net.Conn, e *connEntry) {
	delete(g.conns, c)
	if g.byAddr[e.addr]--; g.byAddr[e.addr] <= 0 {
		delete(g.byAddr, e.addr)
	}
}

// admit registers c, making room by closing the connection idle the
// longest when the server is full; it reports false when c must be
// closed instead.
func (g *connGuard) admit(c net.Conn) bool {
	addr := hostOf(c.RemoteAddr())
	g.mu.Lock()
	defer g.mu.Unlock()
	limited := g.perAddr > 0 && (g.exempt == nil || !g.exempt(addr))
	if limited && g.byAddr[addr] >= g.perAddr && !g.evictIdle(addr) {
		return false
	}
	if g.max > 0 && len(g.conns) >= g.max && !g.evictIdle("") {
		return false
	}
	g.conns[c] = &connEntry{addr: addr}
	g.byAddr[addr]++
	return true
}

// evictIdle closes the connection idle the longest, of addr when it is
// not "", and reports whether there was one.
func (g *connGuard) evictIdle(addr string) bool {
	var oldest net.Conn
	var oe *connEntry
	for c, e := range g.conns {
		if e.idle && (addr == "" || e.addr == addr) && (oe == nil || e.idleSince.Before(oe.idleSince)) {
			oldest, oe = c, e
		}
	}
	if oldest == nil {
		return false
	}
	g.forget(oldest, oe)
	oldest.Close()
	return true
}

// open returns how many connections the guard holds.
func (g *connGuard) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// trustedProxy returns whether an address is one of the trusted proxies
// (IPs or CIDRs, as --trusted-proxies validated them); nil for none.
func trustedProxy(proxies []string) func(ip string) bool {
	if len(proxies) == 0 {
		return nil
	}
	var nets []*net.IPNet
	for _, p := range proxies {
		if _, n, err := net.ParseCIDR(p); err == nil {
			nets = append(nets, n)
		} else if ip := net.ParseIP(p); ip != nil {
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	return func(addr string) bool {
		ip := net.ParseIP(addr)
		for _, n := range nets {
			if ip != nil && n.Contains(ip) {
				return true
			}
		}
		return false
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

type guardedListener struct {
	net.Listener
	g *connGuard
}

// Accept returns the next connection the guard admits; the others are
// closed as they come.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.g.admit(c) {
			return c, nil
		}
		c.Close()
	}
}
