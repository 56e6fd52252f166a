package mongostore

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// docVersion is a version of a document of the state, activity profile or
// agent profile resources; a deletion is a version too.
type docVersion struct {
	ID           string `bson:"_id"`
	Base         string `bson:"base"`
	V            int64  `bson:"v"`
	At           int64  `bson:"at"` // unix ms of the write
	Tenant       string `bson:"tn"`
	Kind         string `bson:"kind"`
	ActivityID   string `bson:"act"`
	Agent        string `bson:"agent"`
	Registration string `bson:"reg"`
	DocID        string `bson:"did"`
	Deleted      bool   `bson:"del"`
	Content      []byte `bson:"content"`
	ContentType  string `bson:"ct"`
	ETag         string `bson:"etag"`
	Updated      int64  `bson:"upd"` // unix ms
}

func docBase(tenant string, k statements.DocumentKey) string {
	return base(tenant, k.Kind, k.ActivityID, k.Agent, k.Registration, k.ID)
}

// current returns the latest version of the document at key and whether
// the document exists.
func (s *Store) current(ctx context.Context, tenant string, key statements.DocumentKey) (*docVersion, bool, error) {
	var d docVersion
	found, err := latest(ctx, s.documents, docBase(tenant, key), &d)
	if err != nil {
		return nil, false, mapErr(err, "cannot read the document")
	}
	return &d, found && !d.Deleted, nil
}

// Document returns the document at key; see statements.DocumentStore.
func (s *Store) Document(ctx context.Context, tenant string, key statements.DocumentKey) (*statements.Document, error) {
	if err := key.Check(true); err != nil {
		return nil, err
	}
	d, exists, err := s.current(ctx, tenant, key)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, statements.Errorf(statements.ENotFound, "no document %q", key.ID)
	}
	content := d.Content
	if content == nil {
		content = []byte{}
	}
	return &statements.Document{Key: key, Content: content, ContentType: d.ContentType, ETag: d.ETag,
		Updated: time.UnixMilli(d.Updated).UTC()}, nil
}

// setFilter selects the versions of the documents of key's Kind,
// ActivityID, Agent and Registration (any when "").
func setFilter(tenant string, key statements.DocumentKey) bson.D {
	f := bson.D{{Key: "tn", Value: tenant}, {Key: "kind", Value: key.Kind},
		{Key: "act", Value: key.ActivityID}, {Key: "agent", Value: key.Agent}}
	if key.Registration != "" {
		f = append(f, bson.E{Key: "reg", Value: key.Registration})
	}
	return f
}

// latestOfSet returns the latest version of each document of the set.
func (s *Store) latestOfSet(ctx context.Context, tenant string, key statements.DocumentKey) ([]*docVersion, error) {
	cur, err := s.documents.Find(ctx, setFilter(tenant, key),
		options.Find().SetProjection(bson.D{{Key: "content", Value: 0}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	var vs []docVersion
	if err := cur.All(ctx, &vs); err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	last := map[string]*docVersion{}
	for i := range vs {
		if l, ok := last[vs[i].Base]; !ok || l.V < vs[i].V {
			last[vs[i].Base] = &vs[i]
		}
	}
	out := make([]*docVersion, 0, len(last))
	for _, v := range last {
		out = append(out, v)
	}
	return out, nil
}

// DocumentIDs returns the ids of a set of documents; see
// statements.DocumentStore.
func (s *Store) DocumentIDs(ctx context.Context, tenant string, key statements.DocumentKey, since time.Time) ([]string, error) {
	if err := key.Check(false); err != nil {
		return nil, err
	}
	vs, err := s.latestOfSet(ctx, tenant, key)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, v := range vs {
		if v.Deleted || !since.IsZero() && v.Updated <= since.UnixMilli() {
			continue
		}
		ids = append(ids, v.DocID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
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
	_, err := s.writeDocument(ctx, tenant, key, cond, false, func(v *docVersion) {
		v.Content, v.ContentType, v.ETag, v.Updated = content, doc.ContentType, etag, updated.UnixMilli()
	})
	return err
}

// DeleteDocument deletes a document if cond holds; see
// statements.DocumentStore.
func (s *Store) DeleteDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition) error {
	if err := key.Check(true); err != nil {
		return err
	}
	_, err := s.deleteDocument(ctx, tenant, key, cond)
	return err
}

// deleteDocument deletes the document at key if cond holds; true if it
// existed and this call deleted it.
func (s *Store) deleteDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition) (bool, error) {
	return s.writeDocument(ctx, tenant, key, cond, true, func(v *docVersion) {
		v.Deleted, v.Updated = true, s.nowMs()
	})
}

// writeDocument inserts the next version of the document at key if cond
// holds for the latest one: a compare-and-swap. Without a condition it
// retries until its version is the next. It returns whether it inserted
// a version: false when it deletes a document that does not exist.
func (s *Store) writeDocument(ctx context.Context, tenant string, key statements.DocumentKey, cond statements.Condition,
	del bool, set func(*docVersion)) (bool, error) {
	b := docBase(tenant, key)
	for attempt := 0; ; attempt++ {
		readAt := time.Now()
		cur, exists, err := s.current(ctx, tenant, key)
		if err != nil {
			return false, err
		}
		if err := cond.Check(exists, cur.ETag); err != nil {
			return false, err
		}
		if del && !exists {
			return false, nil
		}
		v := cur.V + 1
		next := &docVersion{ID: versionID(b, v), Base: b, V: v, At: s.nowMs(), Tenant: tenant, Kind: key.Kind,
			ActivityID: key.ActivityID, Agent: key.Agent, Registration: key.Registration, DocID: key.ID}
		set(next)
		ok, err := s.insertVersion(ctx, s.documents, b, v, next, readAt)
		if err != nil {
			return false, mapErr(err, "cannot write the document")
		}
		if ok {
			return true, nil
		}
		if cond != (statements.Condition{}) {
			return false, statements.Errorf(statements.EPreconditionFailed, "the document changed while it was written")
		}
		if err := backoff(ctx, attempt); err != nil {
			return false, err
		}
	}
}

// DeleteDocuments deletes a set of documents, each by a deletion version;
// see statements.DocumentStore.
func (s *Store) DeleteDocuments(ctx context.Context, tenant string, key statements.DocumentKey) error {
	if err := key.Check(false); err != nil {
		return err
	}
	vs, err := s.latestOfSet(ctx, tenant, key)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Deleted {
			continue
		}
		k := statements.DocumentKey{Kind: v.Kind, ActivityID: v.ActivityID, Agent: v.Agent, Registration: v.Registration, ID: v.DocID}
		if err := s.DeleteDocument(ctx, tenant, k, statements.Condition{}); err != nil {
			return err
		}
	}
	return nil
}

// agentFilter selects the versions of agent's state and agent profile
// documents whose key comes after after in the order of AgentDocuments:
// top-level fields only, a range of the index tn_agent_kind_act_reg_did_v
// per branch of the $or.
func agentFilter(tenant, agent string, after statements.DocumentKey) bson.D {
	f := bson.D{{Key: "tn", Value: tenant}, {Key: "agent", Value: agent},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: statements.KindActivityProfile}}}}
	after.Agent = ""
	if after == (statements.DocumentKey{}) {
		return f
	}
	gt := func(v string) bson.D { return bson.D{{Key: "$gt", Value: v}} }
	return append(f, bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "kind", Value: gt(after.Kind)}},
		bson.D{{Key: "kind", Value: after.Kind}, {Key: "act", Value: gt(after.ActivityID)}},
		bson.D{{Key: "kind", Value: after.Kind}, {Key: "act", Value: after.ActivityID}, {Key: "reg", Value: gt(after.Registration)}},
		bson.D{{Key: "kind", Value: after.Kind}, {Key: "act", Value: after.ActivityID}, {Key: "reg", Value: after.Registration},
			{Key: "did", Value: gt(after.ID)}},
	}})
}

// agentVersions returns the latest versions, without content, of at most
// limit of agent's state and agent profile documents that exist, past
// after in the order of AgentDocuments. It reads the versions in that
// order, the latest of each document first, and skips the deleted ones.
func (s *Store) agentVersions(ctx context.Context, tenant, agent string, after statements.DocumentKey, limit int) ([]*docVersion, error) {
	cur, err := s.documents.Find(ctx, agentFilter(tenant, agent, after), options.Find().
		SetProjection(bson.D{{Key: "content", Value: 0}}).
		SetSort(bson.D{{Key: "kind", Value: 1}, {Key: "act", Value: 1}, {Key: "reg", Value: 1}, {Key: "did", Value: 1}, {Key: "v", Value: -1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var (
		vs   []*docVersion
		prev string // the base of the previous version read
	)
	for len(vs) < limit && cur.Next(ctx) {
		v := &docVersion{}
		if err := cur.Decode(v); err != nil {
			return nil, mapErr(err, "cannot read the documents")
		}
		if v.Base == prev { // an older version of the same document
			continue
		}
		prev = v.Base
		if !v.Deleted {
			vs = append(vs, v)
		}
	}
	return vs, mapErr(cur.Err(), "cannot read the documents")
}

func (v *docVersion) key() statements.DocumentKey {
	return statements.DocumentKey{Kind: v.Kind, ActivityID: v.ActivityID, Agent: v.Agent, Registration: v.Registration, ID: v.DocID}
}

// AgentDocuments returns a page of an agent's state and agent profile
// documents: the latest versions first without content, then their
// content by _id; see statements.DocumentStore.
func (s *Store) AgentDocuments(ctx context.Context, tenant, agent string, after statements.DocumentKey, limit int) ([]statements.Document, error) {
	if err := statements.CheckAgent(agent); err != nil {
		return nil, err
	}
	limit = statements.AgentDocumentsLimit(limit)
	docs := []statements.Document{}
	// A document deleted between the two reads leaves a gap, which the
	// next round fills: a short page is the last.
	for len(docs) < limit {
		want := limit - len(docs)
		vs, err := s.agentVersions(ctx, tenant, agent, after, want)
		if err != nil {
			return nil, err
		}
		if docs, err = s.withContent(ctx, tenant, vs, docs); err != nil {
			return nil, err
		}
		if len(vs) < want {
			break
		}
		after = vs[len(vs)-1].key()
	}
	return docs, nil
}

// withContent appends to docs the documents of versions vs with their
// content, in the order of vs. A version superseded and deleted since it
// was read is replaced by the document as it is now, if any.
func (s *Store) withContent(ctx context.Context, tenant string, vs []*docVersion, docs []statements.Document) ([]statements.Document, error) {
	if len(vs) == 0 {
		return docs, nil
	}
	ids := make(bson.A, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	cur, err := s.documents.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "content", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	var contents []struct {
		ID      string `bson:"_id"`
		Content []byte `bson:"content"`
	}
	if err := cur.All(ctx, &contents); err != nil {
		return nil, mapErr(err, "cannot read the documents")
	}
	content := make(map[string][]byte, len(contents))
	for _, c := range contents {
		content[c.ID] = c.Content
	}
	for _, v := range vs {
		c, ok := content[v.ID]
		if !ok {
			d, exists, err := s.current(ctx, tenant, v.key())
			if err != nil {
				return nil, err
			}
			if !exists {
				continue
			}
			v, c = d, d.Content
		}
		if c == nil {
			c = []byte{}
		}
		docs = append(docs, statements.Document{Key: v.key(), Content: c, ContentType: v.ContentType, ETag: v.ETag,
			Updated: time.UnixMilli(v.Updated).UTC()})
	}
	return docs, nil
}

// DeleteAgentDocuments deletes an agent's state and agent profile
// documents, a page at a time, each by a deletion version; see
// statements.DocumentStore.
func (s *Store) DeleteAgentDocuments(ctx context.Context, tenant, agent string) (int, error) {
	if err := statements.CheckAgent(agent); err != nil {
		return 0, err
	}
	n := 0
	var after statements.DocumentKey
	for {
		vs, err := s.agentVersions(ctx, tenant, agent, after, statements.MaxAgentDocuments)
		if err != nil {
			return n, err
		}
		for _, v := range vs {
			deleted, err := s.deleteDocument(ctx, tenant, v.key(), statements.Condition{})
			if err != nil {
				return n, err
			}
			if deleted {
				n++
			}
		}
		if len(vs) < statements.MaxAgentDocuments {
			return n, nil
		}
		after = vs[len(vs)-1].key()
	}
}
