// Package conformance is a black-box conformance harness for xAPI learning
// record stores. It owns a library of checks, each tied to one requirement of
// the xAPI specification (1.0.3, and 2.0.0 as published in IEEE 9274.1.1), and
// runs them against any LRS over HTTP only.
//
// Every check creates its own data (fresh statement ids, agents, verbs and
// activities derived from a random run id), so checks are independent of each
// other, can run in any order and can be re-run against a shared LRS.
//
// The non-test code of this package imports only the Go standard library: it
// must not import other packages of this module (statements, lrs, ...), because
// it tests an LRS from the outside, exactly as a vendor's client would.
package conformance
