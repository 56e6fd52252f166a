package kafkasink

import (
	"fmt"
	"strings"
)

// TenantPlaceholder is what a topic template holds where the tenant id
// goes.
const TenantPlaceholder = "{tenant}"

// MaxTenantLen is the length of the longest tenant id the LRS allows: 1 to
// 63 lower-case letters, digits, "-" and "_" (lrs.CreateTenant). Each of
// these characters is legal in a Kafka topic name.
const MaxTenantLen = 63

// maxTopicLen is the length of the longest Kafka topic name.
const maxTopicLen = 249

// CheckTopicTemplate returns an error when template is not a topic
// template whose every rendering is a legal Kafka topic name: it holds
// TenantPlaceholder exactly once, its other characters are ASCII letters,
// digits, ".", "_" and "-", and with a tenant id of MaxTenantLen it is at
// most 249 characters long.
func CheckTopicTemplate(template string) error {
	switch n := strings.Count(template, TenantPlaceholder); {
	case n == 0:
		return fmt.Errorf("topic template %q: must hold %s once", template, TenantPlaceholder)
	case n > 1:
		return fmt.Errorf("topic template %q: must hold %s once, not %d times", template, TenantPlaceholder, n)
	}
	rest := strings.Replace(template, TenantPlaceholder, "", 1)
	if i := strings.IndexFunc(rest, func(r rune) bool { return !topicRune(r) }); i >= 0 {
		return fmt.Errorf("topic template %q: %q is not allowed in a Kafka topic name (letters, digits, '.', '_' and '-' are)", template, rest[i:i+1])
	}
	if n := len(rest) + MaxTenantLen; n > maxTopicLen {
		return fmt.Errorf("topic template %q: with a tenant id of %d characters the topic has %d, Kafka allows %d", template, MaxTenantLen, n, maxTopicLen)
	}
	return nil
}

// checkTopicName returns an error when topic is not a legal Kafka topic
// name.
func checkTopicName(topic string) error {
	switch {
	case topic == "" || topic == "." || topic == "..":
		return fmt.Errorf("kafka topic %q: not a legal name", topic)
	case len(topic) > maxTopicLen:
		return fmt.Errorf("kafka topic %q: longer than %d characters", topic, maxTopicLen)
	case strings.IndexFunc(topic, func(r rune) bool { return !topicRune(r) }) >= 0:
		return fmt.Errorf("kafka topic %q: only letters, digits, '.', '_' and '-' are allowed", topic)
	}
	return nil
}

func topicRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}
