package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetrace"
)

// app is a running LRS: its store, its HTTP server and its listener, the
// relay and its sinks.
type app struct {
	log       zerolog.Logger
	store     statements.Store
	ln        net.Listener
	http      *http.Server
	relay     *forwarders.Relay
	oneRoster *oneroster.Sink // in the relay; delivers results in a Run of its own
	rosters   *oneroster.Syncer
	sinks     []io.Closer
	debug     *debugServer // nil without --debug-addr
	internal  *debugServer // nil without --internal-addr
	conns     *connGuard
	replicas  *lrs.Replicas
	people    *signin.Service // without --oidc-issuer: a sandbox's test people only
	// served is the store the server, the relay and the replica count
	// use: store itself, or with --otlp-endpoint storetrace.Wrap of it.
	served  statements.Store
	tracing *sdktrace.TracerProvider // nil without --otlp-endpoint
	// reports adds the credentials' report counts kept in memory to the
	// store (lrs.Server.FlushReports).
	reports func(context.Context) error
	// retention erases what the tenants' retention no longer allows.
	retention *lrs.RetentionJob
	// sandboxes deletes the expired sandboxes.
	sandboxes *lrs.SandboxSweep
}

// newApp opens the store, makes sure it has a tenant and a credential, and
// listens on cfg.Addr.
func newApp(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) (*app, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	log := zerolog.New(stderr).Level(level).With().Timestamp().Logger()

	// The address is taken before the store is opened, so that a busy
	// port never leaves a bootstrap secret printed for an LRS that did
	// not start.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	boot, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{
		Key: cfg.BootstrapKey, Secret: cfg.BootstrapSecret, XAPIVersion: cfg.BootstrapXAPIVersion}, time.Now())
	if err != nil {
		ln.Close()
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
	static, err := oneRosterStatic(cfg)
	if err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	// With traces, everything but the bootstrap uses the traced store.
	served := store
	var tracing *sdktrace.TracerProvider
	var tp trace.TracerProvider // stays a nil interface without traces
	if cfg.OTLPEndpoint != "" {
		if tracing, err = newTracing(ctx, cfg.OTLPEndpoint, log); err != nil {
			ln.Close()
			store.Close()
			return nil, err
		}
		tp = tracing
		served = storetrace.Wrap(store, tracing, storeSystem(cfg))
		log.Info().Str("otlp_endpoint", cfg.OTLPEndpoint).Msg("sending traces")
	}
	relay, or, sinks, err := newRelay(cfg, served, static, log, tp)
	if err != nil {
		shutdownTracing(tracing, log)
		ln.Close()
		store.Close()
		return nil, err
	}
	rosters, err := oneroster.NewSyncer(oneroster.SyncConfig{Store: served, Log: served, Static: static, Logger: log,
		Interval: cfg.RosterSyncInterval})
	if err != nil {
		closeAll(sinks, log)
		shutdownTracing(tracing, log)
		ln.Close()
		store.Close()
		return nil, err
	}
	for tenant := range static {
		if _, err := store.Tenant(ctx, tenant); err != nil {
			log.Warn().Err(err).Str("tenant", tenant).Msg("LRS_ONEROSTER_TENANT: no such tenant yet")
		}
	}
	var debug *debugServer
	if cfg.DebugAddr != "" {
		if debug, err = listenDebug(cfg.DebugAddr); err != nil {
			closeAll(sinks, log)
			shutdownTracing(tracing, log)
			ln.Close()
			store.Close()
			return nil, fmt.Errorf("--debug-addr: %w", err)
		}
		log.Warn().Str("debug_addr", debug.Addr()).Msg("serving the Go profiler at /debug/pprof/")
	}
	lcfg := lrs.Config{Store: served, Logger: log, AdminToken: cfg.AdminToken, TrustedProxies: splitList(cfg.TrustedProxies),
		CORSOrigins: splitList(cfg.CORSOrigins), MinBodyRate: cfg.MinBodyRate, BodyGrace: cfg.BodyGrace,
		Internal: cfg.InternalAddr != "", ReadyRequiresSinks: cfg.ReadyRequiresSinks, TracerProvider: tp, SandboxTTL: cfg.SandboxTTL}
	lcfg.Ready = relay.Ready
	lcfg.ReadyNotes = rosters.Failing
	lcfg.RosterSync = rosterSync{rosters}
	host, _ := os.Hostname()
	retention := &lrs.RetentionJob{Store: served, Log: log, Interval: cfg.RetentionInterval,
		Holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])}
	lcfg.Metrics = func(w io.Writer) error {
		if err := relay.WriteMetrics(w); err != nil {
			return err
		}
		if err := retention.WriteMetrics(w); err != nil {
			return err
		}
		if err := or.WriteMetrics(w); err != nil {
			return err
		}
		return rosters.WriteMetrics(w)
	}
	lcfg.Admin = served
	ids := &oneroster.Identities{Roster: served}
	lcfg.OneRoster = &oneroster.Admin{Store: served, Static: static,
		Changed: func(tenant string) { or.Forget(tenant); ids.Forget(tenant); or.Notify() }}
	ids.Admin = lcfg.OneRoster
	lcfg.Profile = cfg.xapiProfile
	if cfg.xapiProfile == nil {
		lcfg.ProfileRules = newHomePageRules(lcfg.OneRoster).rules
	}
	lcfg.Replicas = newReplicas(cfg, served, log)
	// Counted before serving, so that a new replica takes only its share.
	if err := lcfg.Replicas.Beat(ctx); err != nil {
		log.Warn().Err(err).Msg("cannot count the replicas yet: 1 until the next count")
	}
	lcfg.Sizer, _ = served.(statements.Sizer)
	people, err := newSignIn(cfg.signInConfig, store, log)
	if err != nil {
		closeAll(sinks, log)
		shutdownTracing(tracing, log)
		if debug != nil {
			debug.Close()
		}
		ln.Close()
		store.Close()
		return nil, err
	}
	if people != nil {
		lcfg.People = people
		lcfg.PeopleAPI = newPeopleAPI(served, ids)
		lcfg.Pages = &lrs.Pages{FrameAncestors: cfg.UIFrameAncestors}
	}
	srv := lrs.New(lcfg)
	var internal *debugServer
	if cfg.InternalAddr != "" {
		if internal, err = listenSide(cfg.InternalAddr, withProfiler(srv.Internal())); err != nil {
			closeAll(sinks, log)
			shutdownTracing(tracing, log)
			if debug != nil {
				debug.Close()
			}
			ln.Close()
			store.Close()
			return nil, fmt.Errorf("--internal-addr: %w", err)
		}
		log.Info().Str("internal_addr", internal.Addr()).Msg("serving /metrics, /admin/ and /debug/pprof/ for operators")
	}
	conns := newConnGuard(cfg.MaxConns, cfg.MaxConnsPerAddr)
	conns.exempt = trustedProxy(splitList(cfg.TrustedProxies))
	a := &app{log: log, store: store, ln: conns.Listener(ln), relay: relay, oneRoster: or, sinks: sinks, debug: debug, internal: internal, conns: conns,
		replicas: lcfg.Replicas, people: people,
		served: served, tracing: tracing,
		rosters: rosters, reports: srv.FlushReports, retention: retention,
		sandboxes: srv.SandboxSweep(retention.Holder),
		http: &http.Server{
			Handler:           srv,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    64 << 10,
			ConnState:         conns.ConnState,
		}}
	ev := log.Info().Str("version", lrs.ProductVersion()).Str("addr", ln.Addr().String()).Str("store", cfg.Store)
	if cfg.Store == "mongo" {
		ev = ev.Str("mongo_database", mongoDatabase(cfg))
	} else {
		ev = ev.Str("data_dir", cfg.DataDir)
	}
	ev.Msg("serving xAPI at /xapi/")
	return a, nil
}

// rosterSync is the lrs.RosterSync of the OneRoster forwarder's syncer.
type rosterSync struct{ s *oneroster.Syncer }

func (r rosterSync) SyncRoster(ctx context.Context, tenant string) error {
	_, err := r.s.Sync(ctx, tenant)
	return err
}

func (r rosterSync) RosterSyncFailure(ctx context.Context, tenant string) (string, time.Time, error) {
	st, err := r.s.Status(ctx, tenant)
	if err != nil || !st.Failing() {
		return "", time.Time{}, err
	}
	return st.LastError, *st.LastErrorAt, nil
}

// shutdownDeadline is how long shutdown waits for the relay to catch up,
// and then for the OneRoster deliveries in flight.
const shutdownDeadline = 5 * time.Second

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
	var sopts []sqlitestore.Option
	if cfg.GroupWait != nil {
		sopts = append(sopts, sqlitestore.WithGroupWait(*cfg.GroupWait))
	}
	store, err := sqlitestore.New(ctx, cfg.DataDir, sopts...)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	return store, nil
}

// storeSystem is the db.system.name of the store cfg names.
func storeSystem(cfg serveConfig) string {
	if cfg.Store == "mongo" {
		return "mongodb"
	}
	return "sqlite"
}

// shutdownTracing sends the spans not yet sent and stops tp, waiting
// shutdownDeadline at most; a nil tp is no traces.
func shutdownTracing(tp *sdktrace.TracerProvider, log zerolog.Logger) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownDeadline)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("traces: not every span was sent")
	}
}

func mongoDatabase(cfg serveConfig) string {
	if cfg.MongoDatabase == "" {
		return mongostore.DefaultDatabase
	}
	return cfg.MongoDatabase
}

// newReplicas returns the replica count of cfg.Replicas: pinned, or
// counted through the store's leases under an id naming this host and
// process.
func newReplicas(cfg serveConfig, store statements.Store, log zerolog.Logger) *lrs.Replicas {
	if cfg.Replicas > 0 {
		return lrs.FixedReplicas(cfg.Replicas)
	}
	rs, ok := store.(lrs.ReplicaStore)
	if !ok {
		log.Warn().Msg("the store cannot count leases: limits are this process's alone (--replicas)")
		return lrs.FixedReplicas(1)
	}
	host, _ := os.Hostname()
	return lrs.NewReplicas(lrs.ReplicasConfig{Store: rs, ID: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]),
		Interval: cfg.replicaInterval, TTL: 3 * cfg.replicaInterval, Logger: log})
}

// Addr returns the address the LRS listens on.
func (a *app) Addr() string { return a.ln.Addr().String() }

// newRelay returns the relay of the sinks cfg configures: Kafka when
// brokers are given, and always the OneRoster write-back (static: the
// tenant from the environment). It returns the sinks to close after the
// relay. tp, when not nil, traces the deliveries.
func newRelay(cfg serveConfig, store statements.Store, static map[string]oneroster.TenantConfig, log zerolog.Logger, tp trace.TracerProvider) (*forwarders.Relay, *oneroster.Sink, []io.Closer, error) {
	// One holder for the relay's leases and the OneRoster delivery lease.
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
	var sinks []forwarders.Sink
	var closers []io.Closer
	if cfg.KafkaBrokers != "" {
		kcfg := kafkasink.Config{
			Brokers:       strings.Split(cfg.KafkaBrokers, ","),
			Topic:         cfg.KafkaTopic,
			TopicTemplate: cfg.KafkaTopicTemplate,
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
			return nil, nil, nil, fmt.Errorf("--kafka-*: %w", err)
		}
		sinks, closers = append(sinks, sink), append(closers, sink)
		log.Info().Str("brokers", cfg.KafkaBrokers).Str("sink", sink.Name()).Msg("forwarding stored statements to Kafka")
	}
	or, err := oneroster.New(oneroster.Config{Store: store, Log: store, Static: static, Logger: log,
		Holder: holder, LeaseTTL: cfg.RelayLeaseTTL})
	if err != nil {
		closeAll(closers, log)
		return nil, nil, nil, err
	}
	sinks = append(sinks, or)
	for tenant, c := range static {
		log.Info().Str("tenant", tenant).Str("gradebook", c.BaseURL).Msg("writing results back to OneRoster (from the environment)")
	}
	relay, err := forwarders.New(forwarders.Config{Log: store, Sinks: sinks, Logger: log,
		Holder: holder, LeaseTTL: cfg.RelayLeaseTTL, TracerProvider: tp, Private: lrs.IsSandboxTenant})
	if err != nil {
		closeAll(closers, log)
		return nil, nil, nil, err
	}
	return relay, or, closers, nil
}

func closeAll(cs []io.Closer, log zerolog.Logger) {
	for _, c := range cs {
		if err := c.Close(); err != nil {
			log.Warn().Err(err).Msg("closing a sink")
		}
	}
}

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting requests, lets those in flight finish, lets the relay forward
// what is stored (for a few seconds at most), stops the OneRoster
// deliveries (as soon as those in flight end, within as long), closes the
// sinks, sends the spans not yet sent and closes the store.
func (a *app) Run(ctx context.Context) error {
	relayDone, orDone := make(chan struct{}), make(chan struct{})
	rctx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	octx, stopOneRoster := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOneRoster()
	go func() { a.relay.Run(rctx); close(relayDone) }()
	replicasDone := make(chan struct{})
	pctx, stopReplicas := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReplicas()
	go func() { a.replicas.Run(pctx); close(replicasDone) }()
	// A roster sync in flight is abandoned at shutdown: the stored roster
	// stays as it was, and the next start syncs again when due.
	yctx, stopRosters := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRosters()
	rostersDone := make(chan struct{})
	go func() { a.rosters.Run(yctx); close(rostersDone) }()
	// A retention batch in flight is one short write; the run stops with
	// the roster sync.
	retentionDone := make(chan struct{})
	go func() { a.retention.Run(yctx); close(retentionDone) }()
	sandboxesDone := make(chan struct{})
	go func() { a.sandboxes.Run(yctx); close(sandboxesDone) }()
	go func() {
		if err := a.oneRoster.Run(octx); err != nil {
			a.log.Error().Err(err).Msg("OneRoster deliveries stopped")
		}
		close(orDone)
	}()
	if a.people != nil {
		// Discovery retries in the background: xAPI is served meanwhile
		// and /auth/login answers 503.
		pctx, stopPeople := context.WithCancel(ctx)
		defer stopPeople()
		go a.people.Run(pctx)
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
	fctx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), shutdownDeadline)
	if ferr := a.reports(fctx); ferr != nil {
		a.log.Warn().Err(ferr).Msg("the credentials' report counts of the last seconds could not be stored")
	}
	cancelFlush()
	a.relay.Shutdown()
	select {
	case <-relayDone:
	case <-time.After(shutdownDeadline):
		a.log.Warn().Msg("the relay did not catch up in 5 s: the rest is forwarded after the next start")
	}
	stopRelay()
	<-relayDone
	stopRosters()
	<-rostersDone
	<-retentionDone
	<-sandboxesDone
	// Results not yet written stay due in the store for the next start.
	stopOneRoster()
	select {
	case <-orDone:
	case <-time.After(shutdownDeadline):
		a.log.Warn().Msg("OneRoster deliveries did not stop in 5 s: closing the store under them")
	}
	// The others stop counting this replica at their next beat.
	stopReplicas()
	<-replicasDone
	closeAll(a.sinks, a.log)
	// The last deliveries' spans are in the batch: send them.
	shutdownTracing(a.tracing, a.log)
	if a.internal != nil {
		a.internal.Close()
	}
	if a.debug != nil {
		a.debug.Close()
	}
	if cerr := a.store.Close(); err == nil {
		err = cerr
	}
	return err
}
