package mongostore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/storetest"
)

// testURI is the MongoDB-wire server of the tests: LRS_TEST_MONGO_URI, or
// FerretDB (SQLite backend) started in this process.
var testURI string

// external is true when the tests run against LRS_TEST_MONGO_URI.
var external bool

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// childEnv names the environment variable that makes the test binary
// serve FerretDB instead of running tests: FerretDB runs in a process of
// its own, so that its work and memory do not count as the store's (the
// attachment test measures the allocations of the test process).
const childEnv = "LRS_TEST_FERRETDB_DIR"

func runTests(m *testing.M) int {
	if dir := os.Getenv(childEnv); dir != "" {
		return serveFerretDB(dir)
	}
	if uri := os.Getenv("LRS_TEST_MONGO_URI"); uri != "" {
		testURI, external = uri, true
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "lrs-ferretdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // closed when this process ends: the child ends
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests:", err)
		return 1
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests: cannot start FerretDB:", err)
		return 1
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests: FerretDB did not start:", err)
		return 1
	}
	testURI = strings.TrimSpace(line)
	code := m.Run()
	printProfile()
	return code
}

// serveFerretDB runs FerretDB with its SQLite backend in dir, prints its
// URI and serves until standard input closes.
func serveFerretDB(dir string) int {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:  "sqlite",
		// The test server needs no durability: no fsync at each commit.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(off)",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FerretDB:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	fmt.Println(f.MongoDBURI())
	io.Copy(io.Discard, os.Stdin)
	cancel()
	<-done
	return 0
}

var dbSeq atomic.Int64

// newDatabase returns the name of a database no other test uses.
func newDatabase() string { return fmt.Sprintf("lrstest_%d_%d", os.Getpid(), dbSeq.Add(1)) }

// MustOpenStore opens a store on database db of the test server, closed
// (and, on an external server, dropped) at the end of the test.
func MustOpenStore(tb testing.TB, db string, opts ...mongostore.Option) *mongostore.Store {
	tb.Helper()
	s, err := mongostore.New(tb.Context(), testURI, append([]mongostore.Option{mongostore.WithDatabase(db),
		mongostore.WithClientOptions(profileOptions())}, opts...)...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if external {
		tb.Cleanup(func() { dropDatabase(tb, db) })
	}
	return s
}

func dropDatabase(tb testing.TB, db string) {
	c, err := mongo.Connect(options.Client().ApplyURI(testURI))
	if err != nil {
		tb.Errorf("drop %s: %v", db, err)
		return
	}
	defer c.Disconnect(context.Background())
	if err := c.Database(db).Drop(context.Background()); err != nil {
		tb.Errorf("drop %s: %v", db, err)
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) statements.Store { return MustOpenStore(t, newDatabase()) })
}
