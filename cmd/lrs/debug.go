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

func listenDebug(addr string) (*debugServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	d := &debugServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go d.srv.Serve(ln)
	return d, nil
}

// Addr returns the address the profiler listens on.
func (d *debugServer) Addr() string { return d.ln.Addr().String() }

// Close stops the profiler's server.
func (d *debugServer) Close() error { return d.srv.Close() }
