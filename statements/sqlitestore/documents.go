package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/digione/lrs/statements"
)

// documentsSchema holds the tables of the documents. A document's key
// columns are never NULL: "" stands for an absent activity, agent or
// registration, so the unique index identifies it.
var documentsSchema = []string{
	`CREATE TABLE documents (
		tenant       TEXT    NOT NULL,
		kind         TEXT    NOT NULL,
		activity_id  TEXT    NOT NULL,
		agent        TEXT    NOT NULL,
		registration TEXT    NOT NULL,
		id           TEXT    NOT NULL,
		content      BLOB    NOT NULL,
		content_type TEXT    NOT NULL,
		etag         TEXT    NOT NULL,
		updated      INTEGER NOT NULL
	)`,
	// Serves Document, DocumentIDs (in id order) and DeleteDocuments.
	`CREATE UNIQUE INDEX documents_key ON documents (tenant, kind, activity_id, agent, registration, id)`,
	// Serves DocumentIDs with since.
	`CREATE INDEX documents_updated ON documents (tenant, kind, activity_id, agent, registration, updated, id)`,
	documentsAgentIndex,
}

// documentsAgentIndex serves AgentDocuments (in its order) and
// DeleteAgentDocuments (schema version 6).
const documentsAgentIndex = `CREATE INDEX documents_agent ON documents (tenant, agent, kind, activity_id, registration, id)`

// qAgentDocuments reads a page of an agent's documents: tenant, agent,
// then the key to start after (kind, activity_id, registration, id) and
// the limit. The row value is a range of documents_agent in the order of
// the result; the kinds are three, so not an activity profile is a state
// or an agent profile.
const qAgentDocuments = `SELECT kind, activity_id, registration, id, content, content_type, etag, updated FROM documents
	WHERE tenant = ?1 AND agent = ?2 AND (kind, activity_id, registration, id) > (?3, ?4, ?5, ?6)
	AND kind <> 'activityProfile'
	ORDER BY kind, activity_id, registration, id LIMIT ?7`

// Document returns the document at key; see statements.DocumentStore.
func (s *Store) Document(ctx context.Context, tenant string, key statements.DocumentKey) (*statements.Document, error) {
	if err := key.Check(true); err != nil {
		return nil, err
	}
	d := &statements.Document{Key: key}
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT content, content_type, etag, updated FROM documents
		WHERE tenant = ? AND kind = ? AND activity_id = ? AND agent = ? AND registration = ? AND id = ?`,
		tenant, key.Kind, key.ActivityID, key.Agent, key.Registration, key.ID).
		Scan(&d.Content, &d.ContentType, &d.ETag, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no document %q", key.ID)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read the document")
	}
	if d.Content == nil {
		d.Content = []byte{}
	}
	d.Updated = time.UnixMilli(updated).UTC()
	return d, nil
}

// DocumentIDs returns the ids of a set of documents; see
// statements.DocumentStore.
func (s *Store) DocumentIDs(ctx context.Context, tenant string, key statements.DocumentKey, since time.Time) ([]string, error) {
	if err := key.Check(false); err != nil {
		return nil, err
	}
	q := `SELECT DISTINCT id FROM documents WHERE tenant = ? AND kind = ? AND activity_id = ? AND agent = ?`
	args := []any{tenant, key.Kind, key.ActivityID, key.Agent}
	if key.Registration != "" {
		q += ` AND registration = ?`
		args = append(args, key.Registration)
	}
	if !since.IsZero() {
		// updated has millisecond precision: after since means after
		// since's whole millisecond.
		q += ` AND updated > ?`
		args = append(args, since.UnixMilli())
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, mapErr(err, "cannot read the document ids")
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err, "cannot read the document ids")
		}
		ids = append(ids, id)
	}
	return ids, mapErr(rows.Err(), "cannot read the document ids")
}

// PutDocument creates or replaces a document if cond holds; see
// statements.DocumentStore.
func (s *Store) PutDocument(ctx context.Context, tenant string, doc *statements.Document, cond statements.Condition) error {
	key := doc.Key
	if err := key.Check(true); err != nil {
		return err
	}
	etag := doc.ETag
	if etag == "" {
		etag = statements.DocumentETag(doc.Content)
	}
	updated := doc.Updated
	if updated.IsZero() {
		updated = s.now()
	}
	content := doc.Content
	if content == nil {
		content = []byte{}
	}
	return s.writeDocument(ctx, tenant, key, cond, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO documents
			(tenant, kind, activity_id, agent, registration, id, content, content_type, etag, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, kind, activity_id, agent, registration, id) DO UPDATE SET
			content = excluded.content, content_type = excluded.content_type,
			etag = excluded.etag, updated = excluded.updated`,
			tenant, key.Kind, key.ActivityID, key.Agent, key.Registration, key.ID,
			content, doc.ContentType, etag, updated.UnixMilli())
		return err
	})
}

// DeleteDocument deletes a document if cond holds; see
// statements.DocumentStore.
func (s *Store) DeleteDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition) error {
	if err := key.Check(true); err != nil {
		return err
	}
	return s.writeDocument(ctx, tenant, key, cond, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM documents
			WHERE tenant = ? AND kind = ? AND activity_id = ? AND agent = ? AND registration = ? AND id = ?`,
			tenant, key.Kind, key.ActivityID, key.Agent, key.Registration, key.ID)
		return err
	})
}

// writeDocument runs write in a transaction of the single writer after
// checking cond against the document at key: a compare-and-swap.
func (s *Store) writeDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition, write func(*sql.Tx) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot write the document")
	}
	defer tx.Rollback()
	var etag string
	err = tx.QueryRowContext(ctx, `SELECT etag FROM documents
		WHERE tenant = ? AND kind = ? AND activity_id = ? AND agent = ? AND registration = ? AND id = ?`,
		tenant, key.Kind, key.ActivityID, key.Agent, key.Registration, key.ID).Scan(&etag)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return mapErr(err, "cannot write the document")
	}
	if err := cond.Check(exists, etag); err != nil {
		return err
	}
	if err := write(tx); err != nil {
		return mapErr(err, "cannot write the document")
	}
	return mapErr(tx.Commit(), "cannot write the document")
}

// DeleteDocuments deletes a set of documents; see statements.DocumentStore.
func (s *Store) DeleteDocuments(ctx context.Context, tenant string, key statements.DocumentKey) error {
	if err := key.Check(false); err != nil {
		return err
	}
	q := `DELETE FROM documents WHERE tenant = ? AND kind = ? AND activity_id = ? AND agent = ?`
	args := []any{tenant, key.Kind, key.ActivityID, key.Agent}
	if key.Registration != "" {
		q += ` AND registration = ?`
		args = append(args, key.Registration)
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	_, err := s.w.ExecContext(ctx, q, args...)
	return mapErr(err, "cannot delete the documents")
}

// AgentDocuments returns a page of an agent's state and agent profile
// documents; see statements.DocumentStore.
func (s *Store) AgentDocuments(ctx context.Context, tenant, agent string, after statements.DocumentKey, limit int) ([]statements.Document, error) {
	if err := statements.CheckAgent(agent); err != nil {
		return nil, err
	}
	limit = statements.AgentDocumentsLimit(limit)
	rows, err := s.r.QueryContext(ctx, qAgentDocuments, tenant, agent,
		after.Kind, after.ActivityID, after.Registration, after.ID, limit)
	if err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	defer rows.Close()
	docs := []statements.Document{}
	for rows.Next() {
		d := statements.Document{Key: statements.DocumentKey{Agent: agent}}
		var updated int64
		if err := rows.Scan(&d.Key.Kind, &d.Key.ActivityID, &d.Key.Registration, &d.Key.ID,
			&d.Content, &d.ContentType, &d.ETag, &updated); err != nil {
			return nil, mapErr(err, "cannot read the documents")
		}
		if d.Content == nil {
			d.Content = []byte{}
		}
		d.Updated = time.UnixMilli(updated).UTC()
		docs = append(docs, d)
	}
	return docs, mapErr(rows.Err(), "cannot read the documents")
}

// DeleteAgentDocuments deletes an agent's state and agent profile
// documents, in one transaction; see statements.DocumentStore.
func (s *Store) DeleteAgentDocuments(ctx context.Context, tenant, agent string) (int, error) {
	if err := statements.CheckAgent(agent); err != nil {
		return 0, err
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	res, err := s.w.ExecContext(ctx, `DELETE FROM documents
		WHERE tenant = ? AND agent = ? AND kind <> 'activityProfile'`, tenant, agent)
	if err != nil {
		return 0, mapErr(err, "cannot delete the documents")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "cannot delete the documents")
}
