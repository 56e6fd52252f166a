// Package statements is the domain of the LRS: the xAPI statement types, the
// identity of agents, the index terms queries match on, the statement formats
// (exact, ids, canonical), the query Filter, the Store interface every storage
// adapter implements, and the error vocabulary shared by all layers.
//
// It imports only the standard library: no HTTP framework, no database
// driver, no logger. Adapters live in sub-packages named for their
// technology (sqlitestore, mongostore) and are checked by storetest.
package statements
