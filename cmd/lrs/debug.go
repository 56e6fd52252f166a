package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugServer serves the Go profiler on a listener of its own, apart from
// the xAPI and admin APIs: an operator turns it on with --debug-addr to
// profile a running LRS (go tool pprof http://ADDR/debug/pprof/profile).
// It has no authentication, so it belongs on loopback.
type debugServer struct {
	ln  net.Listener
	srv *http.Server
}

func listenDebug(addr string) (*debugServer, error) { return listenSide(addr, withProfiler(nil)) }

// listenSide serves h on a listener of its own at addr.
func listenSide(addr string, h http.Handler) (*debugServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	d := &debugServer{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}}
	go d.srv.Serve(ln)
	return d, nil
}

// withProfiler returns a handler of the Go profiler under /debug/pprof/
// and of h (when not nil) for every other path.
func withProfiler(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	if h != nil {
		mux.Handle("/", h)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Addr returns the address the profiler listens on.
func (d *debugServer) Addr() string { return d.ln.Addr().String() }

// Close stops the profiler's server.
func (d *debugServer) Close() error { return d.srv.Close() }
