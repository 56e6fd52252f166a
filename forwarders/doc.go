// Package forwarders delivers every stored statement to the sinks that feed
// other systems (Kafka for analytics; later OneRoster and webhooks). The
// Relay tails the store's ordered log (statements.Log, DESIGN.md decision
// 2) and hands each sink the statements after its cursor, in position
// order; it advances the sink's cursor in the store only after the sink
// acknowledged them, so delivery is at least once and nothing is lost when
// a sink, the network or the LRS fails.
//
// Sinks live in sub-packages named for their technology (kafkasink). This
// package imports statements, zerolog and OpenTelemetry's trace API (a
// span of each delivery); not lrs, not the store adapters.
package forwarders
