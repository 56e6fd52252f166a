// Package storetrace traces a statements.Store: Store wraps another store
// and makes an OpenTelemetry span of each call, named for the method
// ("store.InsertStatements"), with the tenant, the number of records and
// the error code as attributes.
//
// A call makes a span only inside a recorded span (an HTTP request, a sink
// delivery): the relay's polling of the log, say, makes none. A span never
// holds an agent, a statement, a document, a secret, a roster's sourcedId
// or identity, or an error message (driver errors can quote the values
// they refused); only the error code.
//
// The server, the relay and the CLI find optional capabilities of a store
// (Sizer, LeaseCounter, LogSkimmer) by type assertion, so Wrap returns a
// traced store with exactly the optional interfaces of statements that the
// wrapped store has. When statements gains one, add it to Wrap (cmd/lrs's
// TestTracedStore_Capabilities fails until then). Unwrap returns the
// wrapped store for anything that is not in statements.
//
// It imports statements and OpenTelemetry's trace API only: not the SDK,
// not lrs, not the store adapters.
package storetrace
