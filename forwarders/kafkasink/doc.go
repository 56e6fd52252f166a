// Package kafkasink is the forwarders.Sink that publishes stored
// statements to Kafka for analytics, with segmentio/kafka-go: to one topic,
// or to a topic per tenant (Config.TopicTemplate, "xapi.statements.{tenant}")
// so that each municipality's consumers can be allowed its topic alone.
//
// The contract (DESIGN.md decision 7, asyncapi.yaml beside this file): one
// message per statement, CloudEvents Kafka binding in binary mode. The value
// is the statement as stored (JSON, with "stored"); the headers are
// ce_specversion "1.0", ce_id = the statement id (consumers dedupe on it),
// ce_source = the tenant, ce_type = Type, ce_time = stored, content-type
// application/json, and for a voiding statement ce_xapivoids = the id of the
// statement it voids. The key is a hash of the tenant and the actor's
// identity, so one learner's statements go to one partition in the order
// they were stored; a voiding statement takes the key of the statement it
// voids. Writes wait for every in-sync replica (acks=all); delivery is at
// least once.
//
// It imports statements, forwarders and kafka-go; not lrs, not the stores.
package kafkasink
