package storetrace

import (
	"context"
	"io"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
)

// ScopeName is the instrumentation scope of the spans Store makes.
const ScopeName = "github.com/digione/lrs/statements/storetrace"

// Attribute keys of the store spans. Keys of the project are under "lrs.";
// the others are OpenTelemetry's database conventions.
const (
	AttrTenant     = attribute.Key("lrs.tenant.id")
	AttrCredential = attribute.Key("lrs.credential.key")
	AttrRecords    = attribute.Key("lrs.store.records") // records written, or returned
	AttrErrorCode  = attribute.Key("lrs.error.code")    // a statements error code: "not_found", "internal", ...
	AttrSink       = attribute.Key("lrs.sink.name")
	AttrLease      = attribute.Key("lrs.lease.name")
	AttrDocument   = attribute.Key("lrs.document.kind") // state, activityProfile or agentProfile
	AttrErasure    = attribute.Key("lrs.erasure.id")
	AttrDBSystem   = attribute.Key("db.system.name")
	AttrDBOp       = attribute.Key("db.operation.name")
)

// Store is a statements.Store that traces each call of the store it wraps.
// It has the methods of statements.Store; Wrap adds those of the optional
// interfaces the wrapped store has. Unwrap returns the wrapped store for
// anything else.
type Store struct {
	next   statements.Store
	tracer trace.Tracer
	system attribute.KeyValue
}

var _ statements.Store = (*Store)(nil)

// New returns a Store tracing next with tp's tracer, without next's
// optional interfaces: see Wrap. system names the database in the spans'
// db.system.name ("sqlite", "mongodb").
func New(next statements.Store, tp trace.TracerProvider, system string) *Store {
	return &Store{next: next, tracer: tp.Tracer(ScopeName), system: AttrDBSystem.String(system)}
}

// Unwrap returns the store s traces.
func (s *Store) Unwrap() statements.Store { return s.next }

// start starts the span of op when ctx holds a recorded span; otherwise
// it returns a nil span and the call goes untraced.
func (s *Store) start(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, nil
	}
	ctx, span := s.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, AttrDBOp.String(op)), trace.WithAttributes(attrs...))
	return ctx, span
}

// end ends span (when there is one) with err's code. Only an internal or
// unknown error marks the span failed: a missing document or a refused
// precondition is an answer, not a fault. The message is never recorded.
func end(span trace.Span, err error) {
	if span == nil {
		return
	}
	if code := statements.ErrorCode(err); code != "" {
		span.SetAttributes(AttrErrorCode.String(code))
		if code == statements.EInternal || code == statements.EUnavailable {
			span.SetStatus(codes.Error, code)
		}
	}
	span.End()
}

// records notes n records on span, when there is one.
func records(span trace.Span, n int) {
	if span != nil {
		span.SetAttributes(AttrRecords.Int(n))
	}
}

// InsertStatements traces statements.Store.InsertStatements.
func (s *Store) InsertStatements(ctx context.Context, tenant string, recs []*statements.Record) error {
	ctx, span := s.start(ctx, "InsertStatements", AttrTenant.String(tenant), AttrRecords.Int(len(recs)))
	err := s.next.InsertStatements(ctx, tenant, recs)
	end(span, err)
	return err
}

// Statement traces statements.Store.Statement.
func (s *Store) Statement(ctx context.Context, tenant, id string, voided bool) (*statements.Record, error) {
	ctx, span := s.start(ctx, "Statement", AttrTenant.String(tenant))
	rec, err := s.next.Statement(ctx, tenant, id, voided)
	end(span, err)
	return rec, err
}

// QueryStatements traces statements.Store.QueryStatements. The filter is
// not recorded: it can name an agent.
func (s *Store) QueryStatements(ctx context.Context, tenant string, f statements.Filter) (*statements.Page, error) {
	ctx, span := s.start(ctx, "QueryStatements", AttrTenant.String(tenant))
	p, err := s.next.QueryStatements(ctx, tenant, f)
	if p != nil {
		records(span, len(p.Records))
	}
	end(span, err)
	return p, err
}

// ConsistentThrough traces statements.Store.ConsistentThrough.
func (s *Store) ConsistentThrough(ctx context.Context, tenant string) (time.Time, error) {
	ctx, span := s.start(ctx, "ConsistentThrough", AttrTenant.String(tenant))
	t, err := s.next.ConsistentThrough(ctx, tenant)
	end(span, err)
	return t, err
}

// CreateTenant traces statements.Store.CreateTenant.
func (s *Store) CreateTenant(ctx context.Context, t statements.Tenant) error {
	ctx, span := s.start(ctx, "CreateTenant", AttrTenant.String(t.ID))
	err := s.next.CreateTenant(ctx, t)
	end(span, err)
	return err
}

// Tenants traces statements.Store.Tenants.
func (s *Store) Tenants(ctx context.Context) ([]statements.Tenant, error) {
	ctx, span := s.start(ctx, "Tenants")
	ts, err := s.next.Tenants(ctx)
	records(span, len(ts))
	end(span, err)
	return ts, err
}

// CreateCredential traces statements.Store.CreateCredential.
func (s *Store) CreateCredential(ctx context.Context, c statements.Credential) error {
	ctx, span := s.start(ctx, "CreateCredential", AttrTenant.String(c.Tenant), AttrCredential.String(c.Key))
	err := s.next.CreateCredential(ctx, c)
	end(span, err)
	return err
}

// Credential traces statements.Store.Credential.
func (s *Store) Credential(ctx context.Context, key string) (*statements.Credential, error) {
	ctx, span := s.start(ctx, "Credential", AttrCredential.String(key))
	c, err := s.next.Credential(ctx, key)
	if span != nil && c != nil {
		span.SetAttributes(AttrTenant.String(c.Tenant))
	}
	end(span, err)
	return c, err
}

// Close closes the wrapped store; it makes no span.
func (s *Store) Close() error { return s.next.Close() }

// Document traces statements.DocumentStore.Document.
func (s *Store) Document(ctx context.Context, tenant string, key statements.DocumentKey) (*statements.Document, error) {
	ctx, span := s.start(ctx, "Document", AttrTenant.String(tenant), AttrDocument.String(key.Kind))
	d, err := s.next.Document(ctx, tenant, key)
	end(span, err)
	return d, err
}

// DocumentIDs traces statements.DocumentStore.DocumentIDs.
func (s *Store) DocumentIDs(ctx context.Context, tenant string, key statements.DocumentKey, since time.Time) ([]string, error) {
	ctx, span := s.start(ctx, "DocumentIDs", AttrTenant.String(tenant), AttrDocument.String(key.Kind))
	ids, err := s.next.DocumentIDs(ctx, tenant, key, since)
	records(span, len(ids))
	end(span, err)
	return ids, err
}

// PutDocument traces statements.DocumentStore.PutDocument.
func (s *Store) PutDocument(ctx context.Context, tenant string, doc *statements.Document, cond statements.Condition) error {
	ctx, span := s.start(ctx, "PutDocument", AttrTenant.String(tenant), AttrDocument.String(doc.Key.Kind))
	err := s.next.PutDocument(ctx, tenant, doc, cond)
	end(span, err)
	return err
}

// DeleteDocument traces statements.DocumentStore.DeleteDocument.
func (s *Store) DeleteDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition) error {
	ctx, span := s.start(ctx, "DeleteDocument", AttrTenant.String(tenant), AttrDocument.String(key.Kind))
	err := s.next.DeleteDocument(ctx, tenant, key, cond)
	end(span, err)
	return err
}

// DeleteDocuments traces statements.DocumentStore.DeleteDocuments.
func (s *Store) DeleteDocuments(ctx context.Context, tenant string, key statements.DocumentKey) error {
	ctx, span := s.start(ctx, "DeleteDocuments", AttrTenant.String(tenant), AttrDocument.String(key.Kind))
	err := s.next.DeleteDocuments(ctx, tenant, key)
	end(span, err)
	return err
}

// AgentDocuments traces statements.DocumentStore.AgentDocuments. The
// agent is not recorded.
func (s *Store) AgentDocuments(ctx context.Context, tenant, agent string, after statements.DocumentKey, limit int) ([]statements.Document, error) {
	ctx, span := s.start(ctx, "AgentDocuments", AttrTenant.String(tenant))
	docs, err := s.next.AgentDocuments(ctx, tenant, agent, after, limit)
	records(span, len(docs))
	end(span, err)
	return docs, err
}

// DeleteAgentDocuments traces statements.DocumentStore.DeleteAgentDocuments.
// The agent is not recorded.
func (s *Store) DeleteAgentDocuments(ctx context.Context, tenant, agent string) (int, error) {
	ctx, span := s.start(ctx, "DeleteAgentDocuments", AttrTenant.String(tenant))
	n, err := s.next.DeleteAgentDocuments(ctx, tenant, agent)
	records(span, n)
	end(span, err)
	return n, err
}

// PutAttachment traces statements.AttachmentStore.PutAttachment; the span
// includes reading content.
func (s *Store) PutAttachment(ctx context.Context, tenant, sha2 string, content io.Reader) error {
	ctx, span := s.start(ctx, "PutAttachment", AttrTenant.String(tenant))
	err := s.next.PutAttachment(ctx, tenant, sha2, content)
	end(span, err)
	return err
}

// Attachment traces statements.AttachmentStore.Attachment; the span ends
// when the content is opened, not when it has been read.
func (s *Store) Attachment(ctx context.Context, tenant, sha2 string) (io.ReadCloser, int64, error) {
	ctx, span := s.start(ctx, "Attachment", AttrTenant.String(tenant))
	rc, n, err := s.next.Attachment(ctx, tenant, sha2)
	end(span, err)
	return rc, n, err
}

// ActivityDefinition traces statements.ActivityStore.ActivityDefinition.
func (s *Store) ActivityDefinition(ctx context.Context, tenant, id string) ([]byte, error) {
	ctx, span := s.start(ctx, "ActivityDefinition", AttrTenant.String(tenant))
	b, err := s.next.ActivityDefinition(ctx, tenant, id)
	end(span, err)
	return b, err
}

// MergeActivityDefinition traces
// statements.ActivityStore.MergeActivityDefinition.
func (s *Store) MergeActivityDefinition(ctx context.Context, tenant, id string, definition []byte, authoritative bool) error {
	ctx, span := s.start(ctx, "MergeActivityDefinition", AttrTenant.String(tenant))
	err := s.next.MergeActivityDefinition(ctx, tenant, id, definition, authoritative)
	end(span, err)
	return err
}

// Tenant traces statements.AdminStore.Tenant.
func (s *Store) Tenant(ctx context.Context, id string) (*statements.Tenant, error) {
	ctx, span := s.start(ctx, "Tenant", AttrTenant.String(id))
	t, err := s.next.Tenant(ctx, id)
	end(span, err)
	return t, err
}

// UpdateTenant traces statements.AdminStore.UpdateTenant.
func (s *Store) UpdateTenant(ctx context.Context, t statements.Tenant) error {
	ctx, span := s.start(ctx, "UpdateTenant", AttrTenant.String(t.ID))
	err := s.next.UpdateTenant(ctx, t)
	end(span, err)
	return err
}

// Credentials traces statements.AdminStore.Credentials.
func (s *Store) Credentials(ctx context.Context, tenant string) ([]statements.Credential, error) {
	ctx, span := s.start(ctx, "Credentials", AttrTenant.String(tenant))
	cs, err := s.next.Credentials(ctx, tenant)
	records(span, len(cs))
	end(span, err)
	return cs, err
}

// UpdateCredential traces statements.AdminStore.UpdateCredential.
func (s *Store) UpdateCredential(ctx context.Context, c statements.Credential) error {
	ctx, span := s.start(ctx, "UpdateCredential", AttrTenant.String(c.Tenant), AttrCredential.String(c.Key))
	err := s.next.UpdateCredential(ctx, c)
	end(span, err)
	return err
}

// AppendAudit traces statements.AdminStore.AppendAudit.
func (s *Store) AppendAudit(ctx context.Context, e statements.AuditEntry) error {
	ctx, span := s.start(ctx, "AppendAudit", AttrTenant.String(e.Tenant))
	err := s.next.AppendAudit(ctx, e)
	end(span, err)
	return err
}

// Audit traces statements.AdminStore.Audit.
func (s *Store) Audit(ctx context.Context, limit int) ([]statements.AuditEntry, error) {
	ctx, span := s.start(ctx, "Audit")
	es, err := s.next.Audit(ctx, limit)
	records(span, len(es))
	end(span, err)
	return es, err
}

// ReadLog traces statements.Log.ReadLog.
func (s *Store) ReadLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	ctx, span := s.start(ctx, "ReadLog")
	es, err := s.next.ReadLog(ctx, after, limit)
	records(span, len(es))
	end(span, err)
	return es, err
}

// LogHead traces statements.Log.LogHead.
func (s *Store) LogHead(ctx context.Context) (int64, error) {
	ctx, span := s.start(ctx, "LogHead")
	pos, err := s.next.LogHead(ctx)
	end(span, err)
	return pos, err
}

// Cursor traces statements.Log.Cursor.
func (s *Store) Cursor(ctx context.Context, sink string) (int64, error) {
	ctx, span := s.start(ctx, "Cursor", AttrSink.String(sink))
	pos, err := s.next.Cursor(ctx, sink)
	end(span, err)
	return pos, err
}

// SetCursor traces statements.Log.SetCursor.
func (s *Store) SetCursor(ctx context.Context, sink string, pos int64) error {
	ctx, span := s.start(ctx, "SetCursor", AttrSink.String(sink))
	err := s.next.SetCursor(ctx, sink, pos)
	end(span, err)
	return err
}

// AcquireLease traces statements.Log.AcquireLease.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ctx, span := s.start(ctx, "AcquireLease", AttrLease.String(name))
	ok, err := s.next.AcquireLease(ctx, name, holder, ttl)
	end(span, err)
	return ok, err
}

// ReleaseLease traces statements.Log.ReleaseLease.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	ctx, span := s.start(ctx, "ReleaseLease", AttrLease.String(name))
	err := s.next.ReleaseLease(ctx, name, holder)
	end(span, err)
	return err
}

// SinkItem traces statements.SinkStore.SinkItem.
func (s *Store) SinkItem(ctx context.Context, sink, tenant, key string) (*statements.SinkItem, error) {
	ctx, span := s.start(ctx, "SinkItem", AttrSink.String(sink), AttrTenant.String(tenant))
	it, err := s.next.SinkItem(ctx, sink, tenant, key)
	end(span, err)
	return it, err
}

// PutSinkItem traces statements.SinkStore.PutSinkItem.
func (s *Store) PutSinkItem(ctx context.Context, it *statements.SinkItem) error {
	ctx, span := s.start(ctx, "PutSinkItem", AttrSink.String(it.Sink), AttrTenant.String(it.Tenant))
	err := s.next.PutSinkItem(ctx, it)
	end(span, err)
	return err
}

// DeleteSinkItem traces statements.SinkStore.DeleteSinkItem.
func (s *Store) DeleteSinkItem(ctx context.Context, sink, tenant, key string, version int64) error {
	ctx, span := s.start(ctx, "DeleteSinkItem", AttrSink.String(sink), AttrTenant.String(tenant))
	err := s.next.DeleteSinkItem(ctx, sink, tenant, key, version)
	end(span, err)
	return err
}

// SinkItems traces statements.SinkStore.SinkItems.
func (s *Store) SinkItems(ctx context.Context, q statements.SinkQuery) ([]statements.SinkItem, error) {
	ctx, span := s.start(ctx, "SinkItems", AttrSink.String(q.Sink), AttrTenant.String(q.Tenant))
	its, err := s.next.SinkItems(ctx, q)
	records(span, len(its))
	end(span, err)
	return its, err
}
