package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// serveConfig is the configuration of `lrs serve`. Each field is a flag
// with an LRS_* environment fallback; the default is written beside it.
type serveConfig struct {
	Addr            string // --addr, LRS_ADDR; default ":8080"
	DataDir         string // --data-dir, LRS_DATA_DIR; default "./lrs-data"
	Store           string // --store, LRS_STORE; default "sqlite" (embedded)
	LogLevel        string // --log-level, LRS_LOG_LEVEL; default "info"
	BootstrapKey    string // LRS_BOOTSTRAP_KEY (or LRS_BOOTSTRAP_KEY_FILE); default generated
	BootstrapSecret string // LRS_BOOTSTRAP_SECRET (or LRS_BOOTSTRAP_SECRET_FILE); default generated
	AdminToken      string // --admin-token-file, LRS_ADMIN_TOKEN (or LRS_ADMIN_TOKEN_FILE); default none: no admin API
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
	fs.StringVar(&cfg.DataDir, "data-dir", env("LRS_DATA_DIR", "./lrs-data"), "directory of the embedded store (LRS_DATA_DIR)")
	fs.StringVar(&cfg.Store, "store", env("LRS_STORE", "sqlite"), "store: sqlite (embedded) (LRS_STORE)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("LRS_LOG_LEVEL", "info"), "log level: debug, info, warn, error, disabled (LRS_LOG_LEVEL)")
	adminTokenFile := fs.String("admin-token-file", "", "file holding the bearer token of the admin API under /admin/ (LRS_ADMIN_TOKEN, LRS_ADMIN_TOKEN_FILE); default none: no admin API")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.BootstrapKey, err = secretValue(getenv, "LRS_BOOTSTRAP_KEY"); err != nil {
		return cfg, err
	}
	if cfg.BootstrapSecret, err = secretValue(getenv, "LRS_BOOTSTRAP_SECRET"); err != nil {
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
	switch cfg.Store {
	case "sqlite":
	case "mongo":
		return cfg, fmt.Errorf("--store mongo: the MongoDB store is not available in this build yet; use sqlite")
	default:
		return cfg, fmt.Errorf("--store %q: must be sqlite or mongo", cfg.Store)
	}
	return cfg, nil
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
