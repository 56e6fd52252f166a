package statements

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// ErasedHomePage is the account homePage of the pseudonyms that take an
// erased learner's place in the statements the LRS keeps.
const ErasedHomePage = "https://digione.fi/xapi/erased"

// ErasureKeySize is the length of a tenant's erasure key.
const ErasureKeySize = 32

// ErasureBatch is the most statements one step of an erasure deletes or
// pseudonymises, in one short write: writers wait at most for one step.
const ErasureBatch = 200

// Eraser erases one learner from a tenant (the GDPR's right to erasure),
// role-aware: what the learner did or what was done to them goes, what
// they only took part in stays under a pseudonym.
type Eraser interface {
	// ErasureKey returns the tenant's erasure key, ErasureKeySize random
	// bytes made on the first call and kept by the store: the key of the
	// hashes and pseudonyms NewErasure derives. Without it nobody can
	// tell whose a pseudonym is; with it one can only confirm a guess.
	ErasureKey(ctx context.Context, tenant string) ([]byte, error)

	// EraseAgent erases e.Agent from tenant, in steps of at most
	// ErasureBatch statements, each one short write:
	//   - it deletes every statement whose actor is the agent (an Agent,
	//     or an anonymous Group whose only identified member is the agent)
	//     or whose object is the agent, and the voiding statements of
	//     those;
	//   - it rewrites every other statement that names the agent (a team
	//     member, an instructor, a context agent, the authority, a
	//     SubStatement's agents, a statement referring to one of the
	//     agent's) with e.Pseudonym in each place the agent appeared
	//     (see Erasure.Rewrite): the bytes as stored, so format=exact
	//     returns the rewritten statement, its fingerprint, and its index
	//     terms, so that a query by the agent finds none of them and a
	//     query by the pseudonym finds them all;
	//   - each step appends an ErasureEntry to the log, after the
	//     positions of the statements it deleted or rewrote, naming them;
	//   - it deletes the agent's state and agent profile documents
	//     (DeleteAgentDocuments) and the attachments of the deleted
	//     statements that no remaining statement of the tenant uses;
	//   - it keeps the receipt, ErasureReceipt(ctx, tenant, e.ID), with
	//     Status "running" while it runs and "completed" after, its counts
	//     the sums of every run of the same ID.
	// A statement voided by a deleted statement stays voided. A statement
	// of the agent stored while the erasure runs is erased, or has a
	// position after the erasure's last entry (erasing again erases it).
	// Erasing again finds nothing and appends no entry.
	EraseAgent(ctx context.Context, tenant string, e Erasure) (*ErasureReceipt, error)

	// ErasureReceipt returns the receipt of erasure id; ENotFound if none.
	ErasureReceipt(ctx context.Context, tenant, id string) (*ErasureReceipt, error)

	// SetRetention keeps the statements of tenant for days days after
	// they were stored; 0 keeps them for ever. A negative days is
	// EInvalid.
	SetRetention(ctx context.Context, tenant string, days int) error

	// Retentions returns the retention of each tenant that has one, by
	// tenant.
	Retentions(ctx context.Context) ([]Retention, error)

	// EraseBefore deletes, in one short write, up to limit (at most
	// ErasureBatch) of the statements of tenant stored before before,
	// oldest first, with their index entries, and returns how many it
	// deleted and the sha2 of their attachments (for
	// DeleteUnusedAttachments). It writes nothing to the log (the sinks'
	// copies have retention of their own) and leaves documents as they
	// are. A statement voided by a deleted one stays voided.
	EraseBefore(ctx context.Context, tenant string, before time.Time, limit int) (n int, attachments []string, err error)

	// DeleteUnusedAttachments deletes the attachments among hashes that no
	// statement of tenant has, and returns how many it deleted. It reads
	// the tenant's statements (no index knows which statement has which
	// attachment), so it is for after a batch of deletions, not for each.
	DeleteUnusedAttachments(ctx context.Context, tenant string, hashes []string) (int, error)

	// EraseAuditBefore deletes the audit entries of tenant made before
	// before, and returns how many: the retention of the tenant's audit
	// log. Entries of no tenant stay.
	EraseAuditBefore(ctx context.Context, tenant string, before time.Time) (int, error)

	// DeleteTenant deletes what tenant holds, a step per call, each one
	// short write: up to ErasureBatch of its statements (as EraseBefore
	// does), and, once none is left, everything else (documents,
	// attachments, activity definitions, roster, sink items, erasures and
	// their key, retention, the credentials' reports, credentials, and the
	// tenant itself); then it
	// returns done. The caller revokes the tenant's credentials first, so
	// that nothing is added meanwhile. Other tenants are untouched; the
	// audit log stays, and so do the tenant's entries already in the log.
	DeleteTenant(ctx context.Context, tenant string) (done bool, err error)
}

// Retention is how many days a tenant keeps its statements.
type Retention struct {
	Tenant string
	Days   int
}

// ErasureLimit returns the number of statements an EraseBefore call
// deletes at most: limit, or ErasureBatch when limit is <= 0 or larger.
func ErasureLimit(limit int) int {
	if limit <= 0 || limit > ErasureBatch {
		return ErasureBatch
	}
	return limit
}

// Erasure is a request to erase one agent from a tenant; NewErasure
// makes it.
type Erasure struct {
	// ID names the erasure: the same agent in the same tenant has the
	// same ID (it is AgentHash).
	ID string
	// Agent is the agent key (Actor.Key) of the learner. The store never
	// keeps it.
	Agent string
	// AgentHash is the hex HMAC-SHA-256 of the agent under the tenant's
	// erasure key: the only trace of the learner in the receipt.
	AgentHash string
	// Subject is ActorHash(tenant, Agent): the key under which the sinks
	// ordered the learner's statements (the Kafka message key), kept in
	// the log entries so that the erasure event follows them.
	Subject string
	// Pseudonym replaces the agent where its statements are kept: an
	// account on ErasedHomePage whose name is a keyed hash of the agent.
	Pseudonym Actor
	// RequestedBy and Requested say who asked (an admin token's label, or
	// "cli") and when.
	RequestedBy string
	Requested   time.Time
}

// NewErasure returns the erasure of agent (an agent key) from tenant
// under the tenant's erasure key.
func NewErasure(key []byte, tenant, agent, requestedBy string, requested time.Time) (Erasure, error) {
	if err := CheckAgent(agent); err != nil {
		return Erasure{}, Errorf(EInvalid, "agent: is required")
	}
	if len(key) < 16 {
		return Erasure{}, Errorf(EInternal, "erasure: the tenant's key is too short")
	}
	mac := func(label string) string {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(label + "\x00" + tenant + "\x00" + agent))
		return hex.EncodeToString(h.Sum(nil))
	}
	hash := mac("agent")
	return Erasure{
		ID:        hash[:32],
		Agent:     agent,
		AgentHash: hash,
		Subject:   ActorHash(tenant, agent),
		Pseudonym: Actor{ObjectType: "Agent",
			Account: &Account{HomePage: ErasedHomePage, Name: mac("pseudonym")[:32]}},
		RequestedBy: requestedBy,
		Requested:   requested.UTC(),
	}, nil
}

// ActorHash returns the first 16 bytes of the SHA-256 of tenant and an
// actor key, in hex: the key by which the sinks keep one actor's
// statements in order (the Kafka message key).
func ActorHash(tenant, actorKey string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + actorKey))
	return hex.EncodeToString(h[:16])
}

// ErasureReceipt is the record of an erasure: when, who asked, what it
// removed. It names the learner by AgentHash only.
type ErasureReceipt struct {
	ID          string    `json:"id"`
	AgentHash   string    `json:"agentHash"`
	Status      string    `json:"status"` // "running" or "completed"
	RequestedBy string    `json:"requestedBy"`
	Requested   time.Time `json:"requested"`
	Completed   time.Time `json:"completed,omitzero"`
	Runs        int       `json:"runs"`
	// Counts over every run.
	StatementsDeleted       int `json:"statementsDeleted"`
	StatementsPseudonymised int `json:"statementsPseudonymised"`
	Documents               int `json:"documents"`
	Attachments             int `json:"attachments"`
}

// Receipt statuses.
const (
	ErasureRunning   = "running"
	ErasureCompleted = "completed"
)

// ErasureEntry is a step of an erasure in the store's log (LogEntry):
// which statements it deleted and which it rewrote with a pseudonym.
type ErasureEntry struct {
	ID            string   // the Erasure's ID
	Subject       string   // the Erasure's Subject
	Erased        []string // ids of the deleted statements
	Pseudonymised []string // ids of the statements rewritten with the pseudonym
}

// Check returns EInvalid when e names no agent.
func (e *Erasure) Check() error {
	if e.Agent == "" || e.ID == "" {
		return Errorf(EInvalid, "erasure: agent is required")
	}
	return nil
}

// NextRun returns the receipt of a new run of e, after the runs of prev
// (nil when it has none): running, requested by e's requester, its counts
// those of the earlier runs.
func (e *Erasure) NextRun(prev *ErasureReceipt) *ErasureReceipt {
	rc := ErasureReceipt{ID: e.ID, AgentHash: e.AgentHash}
	if prev != nil {
		rc = *prev
	}
	rc.Status, rc.Completed, rc.RequestedBy, rc.Requested = ErasureRunning, time.Time{}, e.RequestedBy, e.Requested
	rc.Runs++
	return &rc
}

// PseudonymKey returns the agent key of the pseudonym.
func (e *Erasure) PseudonymKey() string { return e.Pseudonym.Key() }

// Term returns the index term that replaces term in a statement kept by
// the erasure, and whether term names the agent (an agent or related
// agent term of it).
func (e *Erasure) Term(term string) (string, bool) {
	for _, p := range []string{termAgent, termRelatedAgent} {
		if term == p+e.Agent {
			return p + e.PseudonymKey(), true
		}
	}
	return term, false
}

// AgentTerms returns the index terms of the agent, which lead an
// erasure to every statement that names it, and their replacements.
func (e *Erasure) AgentTerms() (agent, pseudonym []string) {
	p := e.PseudonymKey()
	return []string{termAgent + e.Agent, termRelatedAgent + e.Agent}, []string{termAgent + p, termRelatedAgent + p}
}

// Deletes reports whether the erasure deletes the statement raw: its
// actor is the agent, or an anonymous Group whose identified members
// are all the agent, or its object is the agent.
func (e *Erasure) Deletes(raw []byte) (bool, error) {
	var s Statement
	if err := json.Unmarshal(raw, &s); err != nil {
		return false, Internal(err, "erasure: cannot read a stored statement")
	}
	a := &s.Actor
	if a.ObjectType != "Group" && a.Key() == e.Agent {
		return true, nil
	}
	if a.ObjectType == "Group" && a.Key() == "" && onlyMember(a, e.Agent) {
		return true, nil
	}
	if s.Object.ObjectType == "Agent" {
		o := s.Object.AsActor()
		return o.Key() == e.Agent, nil
	}
	return false, nil
}

// onlyMember reports whether agent is a member of the group g and its
// other members are anonymous.
func onlyMember(g *Actor, agent string) bool {
	found := false
	for i := range g.Member {
		switch g.Member[i].Key() {
		case "":
		case agent:
			found = true
		default:
			return false
		}
	}
	return found
}

// Rewrite returns the statement raw with every Agent object that is the
// agent replaced by the pseudonym (keeping its objectType member, if it
// had one, and dropping its name), and whether it changed. The bytes of
// the statement stay as they were except on the way to a replaced agent,
// where the objects and arrays holding it are written again without
// whitespace.
func (e *Erasure) Rewrite(raw []byte) ([]byte, bool, error) {
	out, changed, err := e.rewrite(raw)
	if err != nil {
		return nil, false, Internal(err, "erasure: cannot read a stored statement")
	}
	return out, changed, nil
}

func (e *Erasure) rewrite(raw []byte) ([]byte, bool, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) {
		return raw, false, nil
	}
	switch raw[i] {
	case '{':
		ms, err := objectMembers(raw)
		if err != nil {
			return nil, false, err
		}
		if e.isAgent(raw, ms) {
			p := []member{}
			for _, m := range ms {
				if m.key == "objectType" {
					p = append(p, m)
				}
			}
			acc, _ := json.Marshal(e.Pseudonym.Account)
			p = append(p, member{"account", acc})
			return buildObject(p), true, nil
		}
		changed := false
		for k := range ms {
			v, c, err := e.rewrite(ms[k].val)
			if err != nil {
				return nil, false, err
			}
			if c {
				ms[k].val, changed = v, true
			}
		}
		if !changed {
			return raw, false, nil
		}
		return buildObject(ms), true, nil
	case '[':
		els, err := arrayElements(raw)
		if err != nil {
			return nil, false, err
		}
		changed := false
		for k := range els {
			v, c, err := e.rewrite(els[k])
			if err != nil {
				return nil, false, err
			}
			if c {
				els[k], changed = v, true
			}
		}
		if !changed {
			return raw, false, nil
		}
		return append(append([]byte{'['}, bytes.Join(els, []byte{','})...), ']'), true, nil
	}
	return raw, false, nil
}

// isAgent reports whether the object raw, of members ms, is an Agent
// that is the erasure's agent.
func (e *Erasure) isAgent(raw []byte, ms []member) bool {
	ifi := false
	for _, m := range ms {
		switch m.key {
		case "objectType":
			if s, _ := stringValue(m.val); s != "Agent" {
				return false
			}
		case "mbox", "mbox_sha1sum", "openid", "account":
			ifi = true
		}
	}
	if !ifi {
		return false
	}
	var a Actor
	if json.Unmarshal(raw, &a) != nil {
		return false
	}
	return a.Key() == e.Agent
}

// AttachmentHashes returns the sha2 of each attachment of the statement
// raw.
func AttachmentHashes(raw []byte) []string {
	var s struct {
		Attachments []struct {
			SHA2 string `json:"sha2"`
		} `json:"attachments"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	var out []string
	for _, a := range s.Attachments {
		if a.SHA2 != "" {
			out = append(out, a.SHA2)
		}
	}
	return out
}

// UsesAttachment reports whether the statement raw has an attachment
// with sha2; a cheap test of the bytes first.
func UsesAttachment(raw []byte, sha2 string) bool {
	if !bytes.Contains(raw, []byte(sha2)) {
		return false
	}
	for _, h := range AttachmentHashes(raw) {
		if h == sha2 {
			return true
		}
	}
	return false
}
