package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/validation/profile"

	"github.com/rs/zerolog"
)

// serveConfig is the configuration of `lrs serve`. Each field is a flag
// with an LRS_* environment fallback; the default is written beside it.
type serveConfig struct {
	Addr            string // --addr, LRS_ADDR; default ":8080"
	DataDir         string // --data-dir, LRS_DATA_DIR; default "./lrs-data"
	Store           string // --store, LRS_STORE; default "sqlite" (embedded), or "mongo"
	MongoURI        string // --mongo-uri, LRS_MONGO_URI (or LRS_MONGO_URI_FILE); required with --store mongo
	MongoDatabase   string // --mongo-database, LRS_MONGO_DATABASE; default "" = "lrs"
	LogLevel        string // --log-level, LRS_LOG_LEVEL; default "info"
	BootstrapKey    string // LRS_BOOTSTRAP_KEY (or LRS_BOOTSTRAP_KEY_FILE); default generated
	BootstrapSecret string // LRS_BOOTSTRAP_SECRET (or LRS_BOOTSTRAP_SECRET_FILE); default generated
	// BootstrapXAPIVersion is LRS_BOOTSTRAP_XAPI_VERSION: the xAPI version
	// the first credential's app declares, 1.0.3 or 2.0.0; default none.
	BootstrapXAPIVersion string
	AdminToken           string        // --admin-token-file, LRS_ADMIN_TOKEN (or LRS_ADMIN_TOKEN_FILE); default none: no admin API
	MaxConns             int           // --max-connections, LRS_MAX_CONNECTIONS: open connections in all; default 4096; 0: no bound
	MaxConnsPerAddr      int           // --max-connections-per-address, LRS_MAX_CONNECTIONS_PER_ADDRESS: from one client address, trusted proxies excepted; default 256; 0: no bound
	MinBodyRate          int64         // --min-body-rate, LRS_MIN_BODY_RATE: bytes per second a request body must arrive at after --body-grace; default 1024; -1: no bound
	BodyGrace            time.Duration // --body-grace, LRS_BODY_GRACE; default 10s
	CORSOrigins          string        // --cors-origins, LRS_CORS_ORIGINS: origins, comma-separated, whose browser content may call /xapi/ with credentials; default none: "*" without credentials
	UIFrameAncestors     string        // --ui-frame-ancestors, LRS_UI_FRAME_ANCESTORS: sources (https://lms.example.fi, 'self'; space- or comma-separated) that may frame the pages under /ui/; default "" = 'none'
	TrustedProxies       string        // --trusted-proxies, LRS_TRUSTED_PROXIES: IPs or CIDRs, comma-separated, whose X-Forwarded-For names the client; default none
	InternalAddr         string        // --internal-addr, LRS_INTERNAL_ADDR: listen address of /metrics, /admin/ and the profiler, which then leave the public listener; default none
	ReadyRequiresSinks   bool          // --ready-requires-sinks, LRS_READY_REQUIRES_SINKS=true: /readyz is 503 while a sink fails; default false
	DebugAddr            string        // --debug-addr, LRS_DEBUG_ADDR: listen address of the Go profiler (/debug/pprof/); default none
	OTLPEndpoint         string        // --otlp-endpoint, LRS_OTLP_ENDPOINT: OTLP/HTTP collector (http://collector:4318) of the traces; default none: no traces

	KafkaBrokers       string // --kafka-brokers, LRS_KAFKA_BROKERS: host:port,...; default none: no Kafka sink
	KafkaTopic         string // --kafka-topic, LRS_KAFKA_TOPIC; default "" = kafkasink.DefaultTopic ("xapi.statements")
	KafkaTopicTemplate string // --kafka-topic-template, LRS_KAFKA_TOPIC_TEMPLATE: a topic per tenant, e.g. "xapi.statements.{tenant}"; default "" = the one topic above
	KafkaCompression   string // --kafka-compression, LRS_KAFKA_COMPRESSION; default "" = lz4
	KafkaTLS           bool   // --kafka-tls, LRS_KAFKA_TLS=true; default false
	KafkaSASLMechanism string // --kafka-sasl-mechanism, LRS_KAFKA_SASL_MECHANISM: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; default none
	KafkaSASLUser      string // --kafka-sasl-user, LRS_KAFKA_SASL_USER; default none
	KafkaSASLPassword  string // LRS_KAFKA_SASL_PASSWORD (or LRS_KAFKA_SASL_PASSWORD_FILE); default none

	// The OneRoster gradebook of one tenant, from the environment (others
	// are configured through the admin API or `lrs oneroster set`). URL,
	// TokenURL, ClientID and ClientSecret: all four or none.
	OneRosterTenant           string // --oneroster-tenant, LRS_ONEROSTER_TENANT; default lrs.DefaultTenant ("default")
	OneRosterURL              string // --oneroster-url, LRS_ONEROSTER_URL: the gradebook service, up to /ims/oneroster/gradebook/v1p2; default none: no tenant from the environment
	OneRosterTokenURL         string // --oneroster-token-url, LRS_ONEROSTER_TOKEN_URL: the OAuth 2 token endpoint; default none
	OneRosterClientID         string // --oneroster-client-id, LRS_ONEROSTER_CLIENT_ID; default none
	OneRosterClientSecret     string // --oneroster-client-secret-file, LRS_ONEROSTER_CLIENT_SECRET (or LRS_ONEROSTER_CLIENT_SECRET_FILE); default none
	OneRosterIdentityHomePage string // --oneroster-identity-home-page, LRS_ONEROSTER_IDENTITY_HOME_PAGE; default "" = oneroster.DefaultIdentityHomePage (MPASSid)
	OneRosterVerbs            string // --oneroster-verbs, LRS_ONEROSTER_VERBS: comma-separated verb IRIs; default "" = oneroster.DefaultVerbs
	OneRosterRosterURL        string // --oneroster-roster-url, LRS_ONEROSTER_ROSTER_URL: the rostering service, up to /ims/oneroster/rostering/v1p2, read with the same client; default none: no roster sync of that tenant
	OneRosterRosterScope      string // --oneroster-roster-scope, LRS_ONEROSTER_ROSTER_SCOPE: the rostering read scope; default "" = oneroster.ScopeRosterCore

	// XAPIProfile is --xapi-profile, LRS_XAPI_PROFILE: an xAPI Profile
	// (JSON-LD) file that credentials in flag or strict profile mode are
	// checked against; default "" = the DigiOne profile. xapiProfile is it
	// loaded.
	XAPIProfile string
	xapiProfile *profile.Profile

	RosterSyncInterval time.Duration // --roster-sync-interval, LRS_ROSTER_SYNC_INTERVAL: how often each tenant's roster is synced; default 0 = 1h

	RelayLeaseTTL time.Duration // --relay-lease-ttl, LRS_RELAY_LEASE_TTL; default 0 = 15s: how soon another process takes over the sinks of one that died

	RetentionInterval time.Duration // --retention-interval, LRS_RETENTION_INTERVAL: how often the tenants' retention is applied; default 0 = 1h

	// GroupWait is --group-wait, LRS_GROUP_WAIT: how long the embedded
	// store's group commit waits for writers about to queue; nil = the
	// store's default (1 ms), 0 = no wait.
	GroupWait *time.Duration

	SandboxTTL time.Duration // --sandbox-ttl, LRS_SANDBOX_TTL: how long a sandbox the admin API creates lives; default 0 = 30d (lrs.DefaultSandboxTTL)

	// Replicas is --replicas, LRS_REPLICAS: "auto" (default, 0 here): the
	// LRS processes sharing the store count one another through it, and
	// divide each credential's rate and burst and the failed-login
	// slowdown among them; N: that count, pinned (1: this process alone).
	Replicas        int
	replicaInterval time.Duration // how often the replicas are counted; 0 = lrs.DefaultReplicaInterval (10s)

	MongoLease   time.Duration // --mongo-lease, LRS_MONGO_LEASE; default 0 = mongostore's (30s): how long a batch of a process that died may stay in flight
	mongoTimeout time.Duration // how long start-up waits for MongoDB; 0 = mongostore's default (10s)

	signInConfig // people's sign-in: see people.go
}

func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var cfg serveConfig
	fs := flag.NewFlagSet("lrs serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", env("LRS_ADDR", ":8080"), "listen address (LRS_ADDR)")
	storeFlags(fs, &cfg, getenv)
	fs.StringVar(&cfg.InternalAddr, "internal-addr", env("LRS_INTERNAL_ADDR", ""), "listen address of the operators' routes: /metrics, /admin/ and the Go profiler move there from the public listener (LRS_INTERNAL_ADDR; default none)")
	fs.BoolVar(&cfg.ReadyRequiresSinks, "ready-requires-sinks", env("LRS_READY_REQUIRES_SINKS", "") == "true", "/readyz answers 503 while a sink (Kafka, a gradebook) fails; by default it reports the sink and stays 200, since the store keeps what the sink has yet to take (LRS_READY_REQUIRES_SINKS=true)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", env("LRS_DEBUG_ADDR", ""), "listen address of the Go profiler, /debug/pprof/, for operators only: keep it on loopback (LRS_DEBUG_ADDR; default none)")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", env("LRS_OTLP_ENDPOINT", ""), "OpenTelemetry collector the traces go to, over OTLP/HTTP, such as http://collector:4318; the OTEL_* variables tune them (OTEL_TRACES_SAMPLER, ...); default none: no traces (LRS_OTLP_ENDPOINT)")
	fs.StringVar(&cfg.XAPIProfile, "xapi-profile", env("LRS_XAPI_PROFILE", ""), "xAPI Profile (JSON-LD) file that credentials in flag or strict profile mode are checked against; default the DigiOne profile (LRS_XAPI_PROFILE)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("LRS_LOG_LEVEL", "info"), "log level: debug, info, warn, error, disabled (LRS_LOG_LEVEL)")
	fs.StringVar(&cfg.KafkaBrokers, "kafka-brokers", env("LRS_KAFKA_BROKERS", ""), "Kafka bootstrap brokers host:port,...; none: no Kafka sink (LRS_KAFKA_BROKERS)")
	fs.StringVar(&cfg.KafkaTopic, "kafka-topic", env("LRS_KAFKA_TOPIC", ""), "Kafka topic of stored statements; default xapi.statements (LRS_KAFKA_TOPIC)")
	fs.StringVar(&cfg.KafkaTopicTemplate, "kafka-topic-template", env("LRS_KAFKA_TOPIC_TEMPLATE", ""), "a Kafka topic per tenant, {tenant} replaced by the tenant id, e.g. xapi.statements.{tenant}; not with --kafka-topic; default none: one topic (LRS_KAFKA_TOPIC_TEMPLATE)")
	fs.StringVar(&cfg.KafkaCompression, "kafka-compression", env("LRS_KAFKA_COMPRESSION", ""), "Kafka compression: none, gzip, snappy, lz4, zstd; default lz4 (LRS_KAFKA_COMPRESSION)")
	fs.BoolVar(&cfg.KafkaTLS, "kafka-tls", env("LRS_KAFKA_TLS", "") == "true", "connect to Kafka over TLS (LRS_KAFKA_TLS=true)")
	fs.StringVar(&cfg.KafkaSASLMechanism, "kafka-sasl-mechanism", env("LRS_KAFKA_SASL_MECHANISM", ""), "Kafka SASL: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; password from LRS_KAFKA_SASL_PASSWORD(_FILE) (LRS_KAFKA_SASL_MECHANISM)")
	fs.StringVar(&cfg.KafkaSASLUser, "kafka-sasl-user", env("LRS_KAFKA_SASL_USER", ""), "Kafka SASL user (LRS_KAFKA_SASL_USER)")
	mongoLease := fs.String("mongo-lease", env("LRS_MONGO_LEASE", ""), "how long a write batch of an LRS process that died blocks the MongoDB log before another process settles it; default 30s (LRS_MONGO_LEASE)")
	leaseTTL := fs.String("relay-lease-ttl", env("LRS_RELAY_LEASE_TTL", ""), "how soon another LRS process on the store takes over the sinks of one that died; default 15s (LRS_RELAY_LEASE_TTL)")
	replicas := fs.String("replicas", env("LRS_REPLICAS", "auto"), "how many LRS processes serve the deployment, among which each credential's rate and burst and the failed-login slowdown are divided: auto (count them through the store) or a number (LRS_REPLICAS)")
	maxConns := fs.String("max-connections", env("LRS_MAX_CONNECTIONS", "4096"), "open connections in all; when full, the one idle the longest makes room, and without an idle one a new connection is closed; 0: no bound (LRS_MAX_CONNECTIONS)")
	maxConnsPerAddr := fs.String("max-connections-per-address", env("LRS_MAX_CONNECTIONS_PER_ADDRESS", "256"), "open connections from one client address, trusted proxies excepted; 0: no bound (LRS_MAX_CONNECTIONS_PER_ADDRESS)")
	minBodyRate := fs.String("min-body-rate", env("LRS_MIN_BODY_RATE", strconv.Itoa(lrs.DefaultMinBodyRate)), "bytes per second a request body must arrive at, after --body-grace; slower is cut off; -1: no bound (LRS_MIN_BODY_RATE)")
	bodyGrace := fs.String("body-grace", env("LRS_BODY_GRACE", ""), "time a request body may take before --min-body-rate applies; default 10s (LRS_BODY_GRACE)")
	fs.StringVar(&cfg.CORSOrigins, "cors-origins", env("LRS_CORS_ORIGINS", ""), "origins (https://host[:port], comma-separated) whose browser content may call /xapi/ with credentials; default none: any origin, without credentials (LRS_CORS_ORIGINS)")
	fs.StringVar(&cfg.UIFrameAncestors, "ui-frame-ancestors", env("LRS_UI_FRAME_ANCESTORS", ""), "sources that may frame the pages under /ui/ (CSP frame-ancestors), such as https://lms.example.fi or 'self', space- or comma-separated; default none: 'none' (LRS_UI_FRAME_ANCESTORS)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("LRS_TRUSTED_PROXIES", ""), "reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client, for the slowdown of failed logins (LRS_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.OneRosterTenant, "oneroster-tenant", env("LRS_ONEROSTER_TENANT", lrs.DefaultTenant), "the tenant whose OneRoster gradebook the --oneroster-* flags configure (LRS_ONEROSTER_TENANT)")
	fs.StringVar(&cfg.OneRosterURL, "oneroster-url", env("LRS_ONEROSTER_URL", ""), "OneRoster gradebook service of that tenant, up to /ims/oneroster/gradebook/v1p2; none: no tenant from the environment (LRS_ONEROSTER_URL)")
	fs.StringVar(&cfg.OneRosterTokenURL, "oneroster-token-url", env("LRS_ONEROSTER_TOKEN_URL", ""), "its OAuth 2 token endpoint (LRS_ONEROSTER_TOKEN_URL)")
	fs.StringVar(&cfg.OneRosterClientID, "oneroster-client-id", env("LRS_ONEROSTER_CLIENT_ID", ""), "its OAuth 2 client id (LRS_ONEROSTER_CLIENT_ID)")
	oneRosterSecretFile := fs.String("oneroster-client-secret-file", "", "file holding its OAuth 2 client secret (LRS_ONEROSTER_CLIENT_SECRET, LRS_ONEROSTER_CLIENT_SECRET_FILE)")
	fs.StringVar(&cfg.OneRosterIdentityHomePage, "oneroster-identity-home-page", env("LRS_ONEROSTER_IDENTITY_HOME_PAGE", ""), "account home page whose names identify students; default "+oneroster.DefaultIdentityHomePage+" (LRS_ONEROSTER_IDENTITY_HOME_PAGE)")
	fs.StringVar(&cfg.OneRosterVerbs, "oneroster-verbs", env("LRS_ONEROSTER_VERBS", ""), "comma-separated verb IRIs that make results; default passed, failed, completed, scored, satisfied (LRS_ONEROSTER_VERBS)")
	checkSignIn := signInFlags(fs, &cfg.signInConfig, getenv)
	fs.StringVar(&cfg.OneRosterRosterURL, "oneroster-roster-url", env("LRS_ONEROSTER_ROSTER_URL", ""), "OneRoster rostering service of that tenant, up to /ims/oneroster/rostering/v1p2, read with the same client; none: its roster is not synced (LRS_ONEROSTER_ROSTER_URL)")
	fs.StringVar(&cfg.OneRosterRosterScope, "oneroster-roster-scope", env("LRS_ONEROSTER_ROSTER_SCOPE", ""), "the scope asked for to read the roster; default "+oneroster.ScopeRosterCore+" (LRS_ONEROSTER_ROSTER_SCOPE)")
	groupWait := fs.String("group-wait", env("LRS_GROUP_WAIT", ""), "embedded store: how long a group commit waits for the writers about to queue, so that single-statement POSTs share a sync to disk; 0 = none; default 1ms (LRS_GROUP_WAIT)")
	retentionInterval := fs.String("retention-interval", env("LRS_RETENTION_INTERVAL", ""), "how often the statements older than their tenant's retention are erased; default 1h (LRS_RETENTION_INTERVAL)")
	sandboxTTL := fs.String("sandbox-ttl", env("LRS_SANDBOX_TTL", ""), "how long a vendor's sandbox lives before it is deleted, e.g. 30d or 720h; default 30d (LRS_SANDBOX_TTL)")
	rosterInterval := fs.String("roster-sync-interval", env("LRS_ROSTER_SYNC_INTERVAL", ""), "how often each tenant's roster is synced from its rostering service, plus a jitter of a tenth; default 1h (LRS_ROSTER_SYNC_INTERVAL)")
	adminTokenFile := fs.String("admin-token-file", "", "file holding the bearer token of the admin API under /admin/ (LRS_ADMIN_TOKEN, LRS_ADMIN_TOKEN_FILE); default none: no admin API")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if *mongoLease != "" {
		if cfg.MongoLease, err = time.ParseDuration(*mongoLease); err != nil || cfg.MongoLease <= 0 {
			return cfg, fmt.Errorf("--mongo-lease %q: want a positive duration such as 30s", *mongoLease)
		}
	}
	if *bodyGrace != "" {
		if cfg.BodyGrace, err = time.ParseDuration(*bodyGrace); err != nil || cfg.BodyGrace <= 0 {
			return cfg, fmt.Errorf("--body-grace %q: want a positive duration such as 10s", *bodyGrace)
		}
	}
	if cfg.MaxConns, err = strconv.Atoi(*maxConns); err != nil || cfg.MaxConns < 0 {
		return cfg, fmt.Errorf("--max-connections %q: want 0 (no bound) or a positive number", *maxConns)
	}
	if cfg.MaxConnsPerAddr, err = strconv.Atoi(*maxConnsPerAddr); err != nil || cfg.MaxConnsPerAddr < 0 {
		return cfg, fmt.Errorf("--max-connections-per-address %q: want 0 (no bound) or a positive number", *maxConnsPerAddr)
	}
	if cfg.MinBodyRate, err = strconv.ParseInt(*minBodyRate, 10, 64); err != nil || cfg.MinBodyRate < -1 || cfg.MinBodyRate == 0 {
		return cfg, fmt.Errorf("--min-body-rate %q: want a positive rate in bytes per second, or -1 for no bound", *minBodyRate)
	}
	if *replicas != "auto" {
		if cfg.Replicas, err = strconv.Atoi(*replicas); err != nil || cfg.Replicas < 1 {
			return cfg, fmt.Errorf("--replicas %q: want auto or a number of processes, at least 1", *replicas)
		}
	}
	if *leaseTTL != "" {
		if cfg.RelayLeaseTTL, err = time.ParseDuration(*leaseTTL); err != nil || cfg.RelayLeaseTTL <= 0 {
			return cfg, fmt.Errorf("--relay-lease-ttl %q: want a positive duration such as 15s", *leaseTTL)
		}
	}
	if *groupWait != "" {
		d, err := time.ParseDuration(*groupWait)
		if err != nil || d < 0 || d > 100*time.Millisecond {
			return cfg, fmt.Errorf("--group-wait %q: want a duration from 0 to 100ms such as 1ms", *groupWait)
		}
		cfg.GroupWait = &d
	}
	if *retentionInterval != "" {
		if cfg.RetentionInterval, err = time.ParseDuration(*retentionInterval); err != nil || cfg.RetentionInterval < time.Second {
			return cfg, fmt.Errorf("--retention-interval %q: want a duration of a second or more such as 1h", *retentionInterval)
		}
	}
	if *sandboxTTL != "" {
		if cfg.SandboxTTL, err = parseTTL(*sandboxTTL); err != nil {
			return cfg, err
		}
	}
	if *rosterInterval != "" {
		if cfg.RosterSyncInterval, err = time.ParseDuration(*rosterInterval); err != nil || cfg.RosterSyncInterval < time.Minute {
			return cfg, fmt.Errorf("--roster-sync-interval %q: want a duration of a minute or more such as 1h", *rosterInterval)
		}
	}
	if cfg.XAPIProfile != "" {
		if cfg.xapiProfile, err = loadProfile(cfg.XAPIProfile); err != nil {
			return cfg, fmt.Errorf("--xapi-profile: %w", err)
		}
	}
	if cfg.BootstrapKey, err = secretValue(getenv, "LRS_BOOTSTRAP_KEY"); err != nil {
		return cfg, err
	}
	if cfg.BootstrapSecret, err = secretValue(getenv, "LRS_BOOTSTRAP_SECRET"); err != nil {
		return cfg, err
	}
	switch cfg.BootstrapXAPIVersion = getenv("LRS_BOOTSTRAP_XAPI_VERSION"); cfg.BootstrapXAPIVersion {
	case "", lrs.Version103, lrs.Version200:
	default:
		return cfg, fmt.Errorf("LRS_BOOTSTRAP_XAPI_VERSION %q: want %s or %s", cfg.BootstrapXAPIVersion, lrs.Version103, lrs.Version200)
	}
	if cfg.KafkaSASLPassword, err = secretValue(getenv, "LRS_KAFKA_SASL_PASSWORD"); err != nil {
		return cfg, err
	}
	if *adminTokenFile != "" {
		b, err := os.ReadFile(*adminTokenFile)
		if err != nil {
			return cfg, fmt.Errorf("--admin-token-file: %w", err)
		}
		cfg.AdminToken = strings.TrimSpace(string(b))
	} else if cfg.AdminToken, err = secretValue(getenv, "LRS_ADMIN_TOKEN"); err != nil {
		return cfg, err
	}
	if *oneRosterSecretFile != "" {
		b, err := os.ReadFile(*oneRosterSecretFile)
		if err != nil {
			return cfg, fmt.Errorf("--oneroster-client-secret-file: %w", err)
		}
		cfg.OneRosterClientSecret = strings.TrimSpace(string(b))
	} else if cfg.OneRosterClientSecret, err = secretValue(getenv, "LRS_ONEROSTER_CLIENT_SECRET"); err != nil {
		return cfg, err
	}
	if _, err := oneRosterStatic(cfg); err != nil {
		return cfg, err
	}
	if err := validateServeConfig(cfg); err != nil {
		return cfg, err
	}
	if err := checkSignIn(); err != nil {
		return cfg, err
	}
	for _, o := range splitList(cfg.CORSOrigins) {
		if err := lrs.ValidOrigin(o); err != nil {
			return cfg, fmt.Errorf("--cors-origins: %q is not an origin such as https://app.example.fi", o)
		}
	}
	fa, err := frameAncestors(cfg.UIFrameAncestors)
	if err != nil {
		return cfg, err
	}
	cfg.UIFrameAncestors = fa
	for _, p := range splitList(cfg.TrustedProxies) {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return cfg, fmt.Errorf("--trusted-proxies: %q is neither an IP address nor a CIDR", p)
			}
		}
	}
	if err := checkStoreConfig(&cfg, getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// storeFlags defines the flags that choose and open the store, the same
// for serve and every other command, with their LRS_* fallbacks.
func storeFlags(fs *flag.FlagSet, cfg *serveConfig, getenv func(string) string) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.DataDir, "data-dir", env("LRS_DATA_DIR", "./lrs-data"), "directory of the embedded store (LRS_DATA_DIR)")
	fs.StringVar(&cfg.Store, "store", env("LRS_STORE", "sqlite"), "store: sqlite (embedded) or mongo (LRS_STORE)")
	// The URI may hold a password: its flag has no default, so -h never
	// prints the environment's.
	fs.StringVar(&cfg.MongoURI, "mongo-uri", "", "MongoDB connection string, with --store mongo (LRS_MONGO_URI or LRS_MONGO_URI_FILE)")
	fs.StringVar(&cfg.MongoDatabase, "mongo-database", env("LRS_MONGO_DATABASE", ""), `MongoDB database (LRS_MONGO_DATABASE; default "lrs")`)
}

// checkStoreConfig completes the store flags after parsing (the URI from
// LRS_MONGO_URI or LRS_MONGO_URI_FILE) and checks them.
func checkStoreConfig(cfg *serveConfig, getenv func(string) string) error {
	if cfg.MongoURI == "" {
		var err error
		if cfg.MongoURI, err = secretValue(getenv, "LRS_MONGO_URI"); err != nil {
			return err
		}
	}
	switch cfg.Store {
	case "sqlite":
	case "mongo":
		if cfg.MongoURI == "" {
			return fmt.Errorf("--store mongo needs --mongo-uri (or LRS_MONGO_URI)")
		}
	default:
		return fmt.Errorf("--store %q: must be sqlite or mongo", cfg.Store)
	}
	return nil
}

// oneRosterStatic returns the OneRoster tenant cfg configures from the
// environment (oneroster.Config.Static); nil when it configures none. The
// errors name the variables and flags, never the secret.
func oneRosterStatic(cfg serveConfig) (map[string]oneroster.TenantConfig, error) {
	vars := []struct{ env, flag, value string }{
		{"LRS_ONEROSTER_URL", "--oneroster-url", cfg.OneRosterURL},
		{"LRS_ONEROSTER_TOKEN_URL", "--oneroster-token-url", cfg.OneRosterTokenURL},
		{"LRS_ONEROSTER_CLIENT_ID", "--oneroster-client-id", cfg.OneRosterClientID},
		{"LRS_ONEROSTER_CLIENT_SECRET", "--oneroster-client-secret-file", cfg.OneRosterClientSecret},
	}
	var set, missing []string
	for _, v := range vars {
		if v.value != "" {
			set = append(set, v.env)
		} else {
			missing = append(missing, v.env+" (or "+v.flag+")")
		}
	}
	if len(set) == 0 {
		if cfg.OneRosterRosterURL != "" {
			return nil, errors.New("LRS_ONEROSTER_ROSTER_URL (--oneroster-roster-url) needs the OneRoster client: set LRS_ONEROSTER_URL, LRS_ONEROSTER_TOKEN_URL, LRS_ONEROSTER_CLIENT_ID and LRS_ONEROSTER_CLIENT_SECRET too")
		}
		return nil, nil
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("OneRoster from the environment: %s set, but %s missing: set all four or none",
			strings.Join(set, ", "), strings.Join(missing, ", "))
	}
	if cfg.OneRosterTenant == "" {
		return nil, errors.New("LRS_ONEROSTER_TENANT (--oneroster-tenant): empty")
	}
	c := oneroster.TenantConfig{BaseURL: cfg.OneRosterURL, TokenURL: cfg.OneRosterTokenURL, ClientID: cfg.OneRosterClientID,
		ClientSecret: cfg.OneRosterClientSecret, IdentityHomePage: cfg.OneRosterIdentityHomePage, Verbs: splitList(cfg.OneRosterVerbs),
		RosterURL: cfg.OneRosterRosterURL, RosterScope: cfg.OneRosterRosterScope}
	if err := c.Check(); err != nil {
		// Check names the JSON field: name the variable instead.
		msg := err.Error()
		for field, name := range map[string]string{"baseUrl": "LRS_ONEROSTER_URL (--oneroster-url)",
			"tokenUrl": "LRS_ONEROSTER_TOKEN_URL (--oneroster-token-url)", "identityHomePage": "LRS_ONEROSTER_IDENTITY_HOME_PAGE (--oneroster-identity-home-page)",
			"verbs": "LRS_ONEROSTER_VERBS (--oneroster-verbs)", "rosterUrl": "LRS_ONEROSTER_ROSTER_URL (--oneroster-roster-url)",
			"rosterScope": "LRS_ONEROSTER_ROSTER_SCOPE (--oneroster-roster-scope)"} {
			if rest, ok := strings.CutPrefix(msg, field); ok {
				msg = name + rest
			}
		}
		return nil, errors.New(msg)
	}
	return map[string]oneroster.TenantConfig{cfg.OneRosterTenant: c}, nil
}

// oneRosterEnv returns the OneRoster tenant the LRS_ONEROSTER_* variables
// configure, as oneRosterStatic, for the commands that take no serve flags.
func oneRosterEnv(getenv func(string) string) (map[string]oneroster.TenantConfig, error) {
	cfg := serveConfig{OneRosterTenant: getenv("LRS_ONEROSTER_TENANT"), OneRosterURL: getenv("LRS_ONEROSTER_URL"),
		OneRosterTokenURL: getenv("LRS_ONEROSTER_TOKEN_URL"), OneRosterClientID: getenv("LRS_ONEROSTER_CLIENT_ID"),
		OneRosterIdentityHomePage: getenv("LRS_ONEROSTER_IDENTITY_HOME_PAGE"), OneRosterVerbs: getenv("LRS_ONEROSTER_VERBS"),
		OneRosterRosterURL: getenv("LRS_ONEROSTER_ROSTER_URL"), OneRosterRosterScope: getenv("LRS_ONEROSTER_ROSTER_SCOPE")}
	if cfg.OneRosterTenant == "" {
		cfg.OneRosterTenant = lrs.DefaultTenant
	}
	var err error
	if cfg.OneRosterClientSecret, err = secretValue(getenv, "LRS_ONEROSTER_CLIENT_SECRET"); err != nil {
		return nil, err
	}
	return oneRosterStatic(cfg)
}

// secretValue reads name from the environment, or the file named by
// name_FILE.
func secretValue(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	path := getenv(name + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// splitList returns the non-empty, trimmed items of a comma-separated list.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// validateServeConfig checks what serve would otherwise find wrong only
// after opening the store (and printing a bootstrap secret): the log
// level, the listen addresses, the traces' endpoint and the Kafka settings.
func validateServeConfig(cfg serveConfig) error {
	if _, err := zerolog.ParseLevel(cfg.LogLevel); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn, error or disabled", cfg.LogLevel)
	}
	for _, a := range []struct{ flag, addr string }{{"--addr", cfg.Addr}, {"--internal-addr", cfg.InternalAddr}, {"--debug-addr", cfg.DebugAddr}} {
		if a.addr == "" && a.flag != "--addr" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil || port == "" {
			return fmt.Errorf("%s %q: want host:port or :port", a.flag, a.addr)
		}
	}
	if cfg.OTLPEndpoint != "" {
		if _, err := tracesURL(cfg.OTLPEndpoint); err != nil {
			return err
		}
	}
	switch strings.ToLower(cfg.KafkaCompression) {
	case "", "none", "gzip", "snappy", "lz4", "zstd":
	default:
		return fmt.Errorf("--kafka-compression %q: want none, gzip, snappy, lz4 or zstd", cfg.KafkaCompression)
	}
	switch strings.ToUpper(cfg.KafkaSASLMechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if cfg.KafkaSASLUser == "" || cfg.KafkaSASLPassword == "" {
			return fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-user and LRS_KAFKA_SASL_PASSWORD", cfg.KafkaSASLMechanism)
		}
	default:
		return fmt.Errorf("--kafka-sasl-mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", cfg.KafkaSASLMechanism)
	}
	if cfg.KafkaTopicTemplate != "" {
		if cfg.KafkaTopic != "" {
			return fmt.Errorf("--kafka-topic %q and --kafka-topic-template %q: set one, not both", cfg.KafkaTopic, cfg.KafkaTopicTemplate)
		}
		if err := kafkasink.CheckTopicTemplate(cfg.KafkaTopicTemplate); err != nil {
			return fmt.Errorf("--kafka-topic-template: %w", err)
		}
	}
	if cfg.KafkaBrokers != "" {
		for _, b := range splitList(cfg.KafkaBrokers) {
			if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
				return fmt.Errorf("--kafka-brokers: %q is not host:port", b)
			}
		}
	}
	return nil
}

// frameSource is a CSP host source: an origin, a host with an optional
// wildcard label and port, or a scheme.
var frameSource = regexp.MustCompile(`^(?:https?://)?(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?$|^https?:$`)

// frameAncestors checks the sources of --ui-frame-ancestors and returns
// them space-separated, as CSP writes them; "" for none.
func frameAncestors(v string) (string, error) {
	srcs := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, s := range srcs {
		switch {
		case s == "'none'" && len(srcs) == 1, s == "'self'", frameSource.MatchString(s):
		default:
			return "", fmt.Errorf("--ui-frame-ancestors: %q is not a source such as https://lms.example.fi or 'self' ('none' alone)", s)
		}
	}
	return strings.Join(srcs, " "), nil
}
