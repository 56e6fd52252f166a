package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

var mongoServer struct {
	once sync.Once
	uri  string
	err  error
}

// testMongoURI returns LRS_TEST_MONGO_URI when set, else the URI of a
// FerretDB (SQLite backend) that this test binary starts on first use and
// keeps until it exits, in a directory of its own.
func testMongoURI(t *testing.T) string {
	t.Helper()
	if uri := os.Getenv("LRS_TEST_MONGO_URI"); uri != "" {
		return uri
	}
	mongoServer.once.Do(func() {
		dir, err := os.MkdirTemp("", "lrs-ferretdb-")
		if err != nil {
			mongoServer.err = err
			return
		}
		f, err := ferretdb.New(&ferretdb.Config{
			Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
			Handler:   "sqlite",
			SQLiteURL: "file:" + dir + "/?_pragma=synchronous(off)", // a test server needs no fsync
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			mongoServer.err = err
			return
		}
		go f.Run(context.Background())
		mongoServer.uri = f.MongoDBURI()
	})
	if mongoServer.err != nil {
		t.Fatalf("start FerretDB: %v", mongoServer.err)
	}
	return mongoServer.uri
}
