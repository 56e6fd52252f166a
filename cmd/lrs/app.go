package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/sqlitestore"
)

// app is a running LRS: its store, its HTTP server and its listener.
type app struct {
	log   zerolog.Logger
	store statements.Store
	ln    net.Listener
	http  *http.Server
	relay *forwarders.Relay // nil when no sink is configured
	sinks []io.Closer
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
	relay, sinks, err := newRelay(cfg, store, log)
	if err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	lcfg := lrs.Config{Store: store, Logger: log, AdminToken: cfg.AdminToken, TrustedProxies: splitList(cfg.TrustedProxies)}
	if relay != nil {
		lcfg.Ready, lcfg.Metrics = relay.Ready, relay.WriteMetrics
	}
	lcfg.Admin = store
	srv := lrs.New(lcfg)
	a := &app{log: log, store: store, ln: ln, relay: relay, sinks: sinks, http: &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}}
	ev := log.Info().Str("addr", ln.Addr().String()).Str("store", cfg.Store)
	if cfg.Store == "mongo" {
		ev = ev.Str("mongo_database", mongoDatabase(cfg))
	} else {
		ev = ev.Str("data_dir", cfg.DataDir)
	}
	ev.Msg("serving xAPI at /xapi/")
	return a, nil
}

// openStore opens the store cfg.Store names.
func openStore(ctx context.Context, cfg serveConfig) (statements.Store, error) {
	if cfg.Store == "mongo" {
		opts := []mongostore.Option{mongostore.WithDatabase(mongoDatabase(cfg))}
		if cfg.MongoLease > 0 {
			opts = append(opts, mongostore.WithLease(cfg.MongoLease))
		}
		if cfg.mongoTimeout > 0 {
			opts = append(opts, mongostore.WithConnectTimeout(cfg.mongoTimeout))
		}
		store, err := mongostore.New(ctx, cfg.MongoURI, opts...)
		if err != nil {
			return nil, fmt.Errorf("open MongoDB store: %s", statements.ErrorMessage(err))
		}
		return store, nil
	}
	store, err := sqlitestore.New(ctx, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	return store, nil
}

func mongoDatabase(cfg serveConfig) string {
	if cfg.MongoDatabase == "" {
		return mongostore.DefaultDatabase
	}
	return cfg.MongoDatabase
}

// Addr returns the address the LRS listens on.
func (a *app) Addr() string { return a.ln.Addr().String() }

// newRelay returns the relay of the sinks cfg configures, with the sinks
// to close after it; nil when there are none.
func newRelay(cfg serveConfig, store statements.Store, log zerolog.Logger) (*forwarders.Relay, []io.Closer, error) {
	if cfg.KafkaBrokers == "" {
		return nil, nil, nil
	}
	storeLog := statements.Log(store)
	kcfg := kafkasink.Config{
		Brokers:       strings.Split(cfg.KafkaBrokers, ","),
		Topic:         cfg.KafkaTopic,
		Targets:       store,
		Compression:   cfg.KafkaCompression,
		SASLMechanism: cfg.KafkaSASLMechanism,
		SASLUser:      cfg.KafkaSASLUser,
		SASLPassword:  cfg.KafkaSASLPassword,
	}
	if cfg.KafkaTLS {
		kcfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	sink, err := kafkasink.New(kcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--kafka-*: %w", err)
	}
	relay, err := forwarders.New(forwarders.Config{Log: storeLog, Sinks: []forwarders.Sink{sink}, Logger: log,
		LeaseTTL: cfg.RelayLeaseTTL})
	if err != nil {
		sink.Close()
		return nil, nil, err
	}
	log.Info().Str("brokers", cfg.KafkaBrokers).Str("sink", sink.Name()).Msg("forwarding stored statements to Kafka")
	return relay, []io.Closer{sink}, nil
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting requests, lets those in flight finish, lets the relay forward
// what is stored (for a few seconds at most), closes the sinks and the
// store.
func (a *app) Run(ctx context.Context) error {
	relayDone := make(chan struct{})
	rctx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	if a.relay != nil {
		go func() { a.relay.Run(rctx); close(relayDone) }()
	} else {
		close(relayDone)
	}
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
	if a.relay != nil {
		a.relay.Shutdown()
		select {
		case <-relayDone:
		case <-time.After(5 * time.Second):
			a.log.Warn().Msg("the relay did not catch up in 5 s: the rest is forwarded after the next start")
		}
	}
	stopRelay()
	<-relayDone
	for _, s := range a.sinks {
		if cerr := s.Close(); cerr != nil {
			a.log.Warn().Err(cerr).Msg("closing a sink")
		}
	}
	if cerr := a.store.Close(); err == nil {
		err = cerr
	}
	return err
}
