// Package conformance is a black-box conformance harness for xAPI learning
// record stores. It owns a library of checks, each tied to one requirement of
// the xAPI specification (1.0.3, and 2.0.0 as published in IEEE 9274.1.1), and
// runs them against any LRS over HTTP only.
//
// A run starts with a preflight (Preflight): the endpoint must answer
// /about and accept the credential, or the run stops with one error
// before any check. The preflight then learns what the credential may do
// (Capabilities): xAPI offers no way to ask an LRS for a credential's
// scopes, so it probes each with one cheap request, a 403 meaning the scope
// is missing, and it learns the authority the LRS sets on the credential's
// statements. Each Check declares the scopes it Needs; a check the
// credential's scopes cannot run is reported as not run, with the scope it
// needs, never as a failure. So the harness works with the restricted
// credential of a vendor's app as well as with one of scope "all".
//
// Every check creates its own data (fresh statement ids, agents, verbs and
// activities derived from a random run id), so checks are independent of each
// other, can run in any order and can be re-run against a shared LRS. The
// Report lists what a run stored (Written), and renders as text, JSON and
// JUnit XML; a failed check carries the last HTTP exchange it made.
//
// The non-test code of this package imports only the Go standard library: it
// must not import other packages of this module (statements, lrs, ...), because
// it tests an LRS from the outside, exactly as a vendor's client would.
package conformance
