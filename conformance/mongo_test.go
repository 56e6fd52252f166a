package conformance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/digione/lrs/statements/mongostore"
)

// TestConformance_Mongo runs every check against the LRS on the MongoDB
// store: on LRS_TEST_MONGO_URI when set, else on FerretDB (SQLite backend)
// started by the test.
func TestConformance_Mongo(t *testing.T) {
	uri := os.Getenv("LRS_TEST_MONGO_URI")
	if uri == "" {
		uri = startFerretDB(t)
	}
	db := fmt.Sprintf("lrs_conformance_%d_%d", os.Getpid(), time.Now().UnixNano())
	store, err := mongostore.New(t.Context(), uri, mongostore.WithDatabase(db))
	if err != nil {
		t.Fatalf("open MongoDB store: %v", err)
	}
	runChecks(t, serveLRS(t, store))
}

// startFerretDB starts FerretDB with its SQLite backend in a temporary
// directory until the test ends, and returns its URI.
func startFerretDB(t *testing.T) string {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/?_pragma=synchronous(off)", // a test server needs no fsync
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f.MongoDBURI()
}
