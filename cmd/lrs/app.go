package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// app is a running LRS: its store, its HTTP server and its listener.
type app struct {
	log   zerolog.Logger
	store statements.Store
	ln    net.Listener
	http  *http.Server
}

// newApp opens the store, makes sure it has a tenant and a credential, and
// listens on cfg.Addr.
func newApp(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) (*app, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	log := zerolog.New(stderr).Level(level).With().Timestamp().Logger()

	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	boot, err := lrs.Bootstrap(ctx, store, cfg.BootstrapKey, cfg.BootstrapSecret, time.Now())
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if boot != nil {
		fmt.Fprintf(stdout, "Created tenant %q with a credential of scope \"all\":\n  key:    %s\n", boot.Tenant, boot.Key)
		if boot.Secret != "" {
			fmt.Fprintf(stdout, "  secret: %s\n(the secret is shown only this once)\n", boot.Secret)
		} else {
			fmt.Fprintln(stdout, "  secret: from LRS_BOOTSTRAP_SECRET")
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		store.Close()
		return nil, err
	}
	lcfg := lrs.Config{Store: store, Logger: log, AdminToken: cfg.AdminToken}
	// Temporary: until statements.Store embeds statements.AdminStore.
	if as, ok := store.(statements.AdminStore); ok {
		lcfg.Admin = as
	} else if cfg.AdminToken != "" {
		log.Warn().Str("store", cfg.Store).Msg("this store cannot administer tenants yet: no admin API")
	}
	srv := lrs.New(lcfg)
	a := &app{log: log, store: store, ln: ln, http: &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}}
	log.Info().Str("addr", ln.Addr().String()).Str("store", cfg.Store).Str("data_dir", cfg.DataDir).Msg("serving xAPI at /xapi/")
	return a, nil
}

// openStore opens the store cfg selects.
func openStore(ctx context.Context, cfg serveConfig) (statements.Store, error) {
	store, err := sqlitestore.New(ctx, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	return store, nil
}

// Addr returns the address the LRS listens on.
func (a *app) Addr() string { return a.ln.Addr().String() }

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting requests, lets those in flight finish and closes the store.
func (a *app) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.log.Info().Msg("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		err = a.http.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if cerr := a.store.Close(); err == nil {
		err = cerr
	}
	return err
}
