package statements

import (
	"crypto/sha1"
	"encoding/hex"
	"time"
)

// Document kinds: the three document resources of xAPI.
const (
	KindState           = "state"
	KindActivityProfile = "activityProfile"
	KindAgentProfile    = "agentProfile"
)

// DocumentKey identifies a document: its resource (Kind), the activity
// and agent it belongs to, and its id. For the calls that address a set of
// documents (DocumentIDs, DeleteDocuments) ID is ignored and an empty
// Registration means any registration.
type DocumentKey struct {
	Kind         string
	ActivityID   string // state and activity profile
	Agent        string // agent key (Actor.Key): state and agent profile
	Registration string // state only: lower-case UUID, "" for none
	ID           string // stateId or profileId
}

// Document is a stored document.
type Document struct {
	Key         DocumentKey
	Content     []byte
	ContentType string
	ETag        string    // DocumentETag(Content)
	Updated     time.Time // set by the caller
}

// DocumentETag returns the entity tag of a document: its SHA-1 in lower
// case hex, quoted.
func DocumentETag(content []byte) string {
	sum := sha1.Sum(content)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// MaxAgentDocuments is the most documents one AgentDocuments call returns.
const MaxAgentDocuments = 100

// AgentDocumentsLimit returns the number of documents an AgentDocuments
// page holds at most: limit, or MaxAgentDocuments when limit is <= 0 or
// larger.
func AgentDocumentsLimit(limit int) int {
	if limit <= 0 || limit > MaxAgentDocuments {
		return MaxAgentDocuments
	}
	return limit
}

// CheckAgent returns EInvalid when agent, the agent key of AgentDocuments
// and DeleteAgentDocuments, is empty.
func CheckAgent(agent string) error {
	if agent == "" {
		return Errorf(EInvalid, "document: agent is required")
	}
	return nil
}

// Less reports whether key comes before other in the order of
// AgentDocuments: by Kind, ActivityID, Registration and ID, byte-wise.
// Agent is not compared.
func (key DocumentKey) Less(other DocumentKey) bool {
	if key.Kind != other.Kind {
		return key.Kind < other.Kind
	}
	if key.ActivityID != other.ActivityID {
		return key.ActivityID < other.ActivityID
	}
	if key.Registration != other.Registration {
		return key.Registration < other.Registration
	}
	return key.ID < other.ID
}

// Condition is what a write expects of the document it replaces.
type Condition struct {
	IfMatch     string // the document must exist with this ETag; "*": must exist
	IfNoneMatch string // "*": the document must not exist
}

// Check returns nil when key addresses documents of a known kind and, when
// single, one document (it has an ID); EInvalid otherwise.
func (key DocumentKey) Check(single bool) error {
	switch key.Kind {
	case KindState, KindActivityProfile, KindAgentProfile:
	default:
		return Errorf(EInvalid, "document: unknown kind %q", key.Kind)
	}
	if single && key.ID == "" {
		return Errorf(EInvalid, "document: id is required")
	}
	return nil
}

// Check returns EPreconditionFailed unless c holds for a document that
// exists (or not) with etag.
func (c Condition) Check(exists bool, etag string) error {
	if m := c.IfMatch; m != "" && (!exists || m != "*" && m != etag) {
		if !exists {
			return Errorf(EPreconditionFailed, "If-Match: the document does not exist")
		}
		return Errorf(EPreconditionFailed, "If-Match: the document has changed (its ETag is %s)", etag)
	}
	if n := c.IfNoneMatch; n != "" && exists && (n == "*" || n == etag) {
		return Errorf(EPreconditionFailed, "If-None-Match: the document exists")
	}
	return nil
}
