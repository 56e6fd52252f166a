package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRun_Help(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"tenant", "--help"}, {"store", "-h"}} {
		var out strings.Builder
		if err := run(t.Context(), args, env(nil), &out, io.Discard); err != nil {
			t.Errorf("lrs %s: %v, want no error", strings.Join(args, " "), err)
		}
		if !strings.Contains(out.String(), "lrs ") {
			t.Errorf("lrs %s printed %q", strings.Join(args, " "), out.String())
		}
	}
	var out strings.Builder
	run(t.Context(), []string{"--help"}, env(nil), &out, io.Discard)
	for _, cmd := range []string{"serve", "tenant", "credential", "backup", "restore", "store info"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("lrs --help does not list %s:\n%s", cmd, out.String())
		}
	}
	// A command's own -h prints its flags and ends in flag.ErrHelp, which
	// main turns into exit status 0.
	for _, args := range [][]string{{"serve", "-h"}, {"tenant", "list", "--help"}, {"backup", "--help"},
		{"restore", "-h"}, {"store", "info", "-h"}, {"oneroster", "show", "-h"}} {
		var errb strings.Builder
		err := run(t.Context(), args, env(nil), io.Discard, &errb)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("lrs %s: %v, want flag.ErrHelp", strings.Join(args, " "), err)
		}
		if !strings.Contains(errb.String(), "-data-dir") {
			t.Errorf("lrs %s: usage without the store flags:\n%s", strings.Join(args, " "), errb.String())
		}
	}
}

// TestCLI_MongoStore runs the admin commands and store info against
// MongoDB with serve's store flags.
func TestCLI_MongoStore(t *testing.T) {
	uri := testMongoURI(t)
	db := fmt.Sprintf("lrs_cli_%d", time.Now().UnixNano())
	vars := map[string]string{"LRS_MONGO_DATABASE": db}
	mongo := []string{"--store", "mongo", "--mongo-uri", uri}
	info := func() storeInfoJSON {
		var v storeInfoJSON
		out := mustCLI(t, t.TempDir(), vars, append([]string{"store", "info", "--json"}, mongo...)...)
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("store info: %v: %s", err, out)
		}
		return v
	}
	if v := info(); v.Exists || len(v.Migrations) == 0 || v.Store != "mongo" {
		t.Errorf("store info of an empty database: %+v", v)
	}
	mustCLI(t, t.TempDir(), vars, append([]string{"tenant", "create", "espoo"}, mongo...)...)
	if out := mustCLI(t, t.TempDir(), vars, append([]string{"tenant", "list"}, mongo...)...); !strings.Contains(out, "espoo") {
		t.Errorf("tenant list: %q", out)
	}
	if v := info(); !v.Exists || len(v.Migrations) != 0 || v.Tenants != 1 {
		t.Errorf("store info after a command opened the store: %+v", v)
	}
	// The URI also comes from LRS_MONGO_URI_FILE.
	vars["LRS_MONGO_URI_FILE"] = writeFile(t, "uri", uri+"\n")
	vars["LRS_STORE"] = "mongo"
	if out := mustCLI(t, t.TempDir(), vars, "tenant", "list"); !strings.Contains(out, "espoo") {
		t.Errorf("tenant list with LRS_MONGO_URI_FILE: %q", out)
	}
	for _, cmd := range []string{"backup --to x", "restore --from x"} {
		_, err := cli(t, t.TempDir(), vars, strings.Fields(cmd)...)
		if err == nil || !strings.Contains(err.Error(), "mongodump") {
			t.Errorf("lrs %s with MongoDB: %v, want the advice of mongodump", cmd, err)
		}
	}
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TestCLI_BackupWhileServing takes `lrs backup` while clients post
// statements to `lrs serve`; `lrs restore` of it makes a store on which
// the LRS starts and serves every statement acknowledged before the
// backup began.
func TestCLI_BackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: dir, Store: "sqlite", LogLevel: "disabled",
		BootstrapKey: "backup-key", BootstrapSecret: "backup-secret-0123456789"}
	a := startApp(t, cfg, io.Discard)
	base := "http://" + a.Addr() + "/xapi/statements"
	put := func(ctx context.Context, id string) error {
		req, _ := http.NewRequestWithContext(ctx, "PUT", base+"?statementId="+id, strings.NewReader(`{"actor":{"mbox":"mailto:a@example.fi"},
			"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://example.fi/a"}}`))
		req.SetBasicAuth(cfg.BootstrapKey, cfg.BootstrapSecret)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("PUT statement: %d", resp.StatusCode)
		}
		return nil
	}
	var mu sync.Mutex
	var acked []string
	ackedNow := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), acked...)
	}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := newUUID()
				if err := put(ctx, id); err != nil {
					if ctx.Err() == nil {
						t.Errorf("client: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	for len(ackedNow()) < 100 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	want := ackedNow()
	backup := filepath.Join(t.TempDir(), "lrs.backup")
	out := mustCLI(t, dir, nil, "backup", "--to", backup)
	during := len(ackedNow()) - len(want)
	stop()
	wg.Wait()
	a.stop()
	if !strings.Contains(out, backup) {
		t.Errorf("lrs backup printed %q", out)
	}
	t.Logf("%d statements acknowledged before the backup, %d during it", len(want), during)

	if _, err := cli(t, dir, nil, "restore", "--from", backup); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over the served store without --force: %v, want a refusal naming --force", err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	mustCLI(t, restored, nil, "restore", "--from", backup)
	var info storeInfoJSON
	if err := json.Unmarshal([]byte(mustCLI(t, restored, nil, "store", "info", "--json")), &info); err != nil {
		t.Fatal(err)
	}
	if info.Statements < int64(len(want)) || info.Tenants != 1 || len(info.Migrations) != 0 {
		t.Errorf("store info of the restored store: %+v, want >= %d statements", info, len(want))
	}

	cfg.DataDir = restored
	r := startApp(t, cfg, io.Discard)
	defer r.stop()
	for _, id := range want {
		if got := get(t, "http://"+r.Addr()+"/xapi/statements?statementId="+id, cfg.BootstrapKey, cfg.BootstrapSecret).StatusCode; got != http.StatusOK {
			t.Fatalf("GET statement %s acknowledged before the backup, from the restored store: %d, want 200", id, got)
		}
	}
}
