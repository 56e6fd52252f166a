// Command ferretdb runs FerretDB, a MongoDB-wire server, on its embedded
// SQLite backend: a MongoDB for development and for trying the LRS's
// MongoDB store without installing MongoDB. It is not a production server.
//
//	go run . --listen 127.0.0.1:27017 --dir ./ferretdb-data
//
// It lives in a module of its own so that FerretDB's dependencies stay out
// of the LRS's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := fs.String("dir", "./ferretdb-data", "directory of the SQLite databases")
	durable := fs.Bool("durable", true, "sync writes to disk (false: faster, for throwaway data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	url := "file:" + *dir + "/"
	if !*durable {
		url += "?_pragma=synchronous(off)"
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: url,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stdout, "MongoDB URI:", f.MongoDBURI())
	f.Run(ctx)
	return nil
}
