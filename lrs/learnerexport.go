package lrs

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// exportStatementBytes bounds a page of statements a learner export holds
// in memory, and exportDocuments a page of documents (each up to the
// largest document the LRS takes).
const (
	exportStatementBytes = 4 << 20
	exportDocuments      = 2
)

// ExportManifest is manifest.json of a learner export.
type ExportManifest struct {
	Tenant string `json:"tenant"`
	// Agent is the agent parameter as given.
	Agent    json.RawMessage `json:"agent"`
	Exported time.Time       `json:"exported"`
	Counts   ExportCounts    `json:"counts"`
	// OneRosterStudent is the student sourcedId the gradebook results are
	// written under; "" when the agent names none.
	OneRosterStudent string `json:"oneRosterStudent,omitempty"`
	// NotIncluded says what the archive does not hold, and why.
	NotIncluded []ExportOmission `json:"notIncluded"`
	// Complete is false when the export stopped on an error: the archive
	// then holds less than Counts would need.
	Complete bool `json:"complete"`
}

// ExportCounts counts the entries of a learner export.
type ExportCounts struct {
	Statements       int `json:"statements"`
	VoidedStatements int `json:"voidedStatements"`
	Documents        int `json:"documents"`
	Attachments      int `json:"attachments"`
	OneRosterResults int `json:"oneRosterResults"`
}

// ExportOmission is one thing a learner export does not hold.
type ExportOmission struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// exportDocumentJSON is an entry of documents/documents.json.
type exportDocumentJSON struct {
	File         string    `json:"file"`
	Kind         string    `json:"kind"`
	ActivityID   string    `json:"activityId,omitempty"`
	Registration string    `json:"registration,omitempty"`
	ID           string    `json:"id"`
	ContentType  string    `json:"contentType"`
	Updated      time.Time `json:"updated"`
}

// LearnerAgent validates the agent of a learner export (an xAPI Agent
// object as the agent parameter of /xapi/statements takes it) and returns
// it with its key; EInvalid naming the parameter otherwise.
func LearnerAgent(agentJSON []byte) (statements.Actor, string, error) {
	var a statements.Actor
	if err := validation.Agent(Version200, agentJSON); err != nil {
		return a, "", paramError("agent", err)
	}
	if err := json.Unmarshal(agentJSON, &a); err != nil {
		return a, "", statements.Errorf(statements.EInvalid, "agent: %v", err)
	}
	if a.ObjectType == "Group" {
		return a, "", statements.Errorf(statements.EInvalid, "agent: must be an Agent, not a Group")
	}
	key, err := statements.AgentKey(agentJSON)
	return a, key, err
}

// ExportLearner writes everything the LRS holds about one learner of
// tenant, the right of access: a ZIP archive of statements.json, the
// documents under documents/, the attachments under attachments/,
// oneroster-results.json and manifest.json (see ExportManifest). It
// checks agentJSON (LearnerAgent) and the tenant (ENotFound), keeps an
// audit entry that names the agent by a hash only, and only then calls
// open for the writer, so a failure it returns before that has written
// nothing. The archive is written as it is read, a page at a time; a
// failure after open leaves it incomplete (its manifest says so when it
// can still be written) and is returned.
func (a *Admin) ExportLearner(ctx context.Context, actor, tenant string, agentJSON []byte, open func() (io.Writer, error)) error {
	agent, key, err := LearnerAgent(agentJSON)
	if err != nil {
		return err
	}
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(key))
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "learner.export", Tenant: tenant,
		Detail: "agent=sha256:" + hex.EncodeToString(sum[:])})
	w, err := open()
	if err != nil {
		return err
	}
	x := &learnerExport{a: a, tenant: tenant, agent: agent, key: key, zw: zip.NewWriter(w), at: a.now().UTC(),
		attachments: map[string]bool{}}
	x.manifest = ExportManifest{Tenant: tenant, Agent: json.RawMessage(agentJSON), Exported: x.at.Truncate(time.Millisecond)}
	err = x.write(ctx)
	x.manifest.Complete = err == nil
	if werr := x.json("manifest.json", x.manifest); err == nil {
		err = werr
	}
	if cerr := x.zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// learnerExport is one ExportLearner under way.
type learnerExport struct {
	a        *Admin
	tenant   string
	agent    statements.Actor
	key      string
	zw       *zip.Writer
	at       time.Time
	manifest ExportManifest
	// attachments holds the hashes of the attachments of the exported
	// statements; order holds them in the order first met.
	attachments map[string]bool
	order       []string
}

func (x *learnerExport) create(name string) (io.Writer, error) {
	return x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.at})
}

func (x *learnerExport) json(name string, v any) error {
	w, err := x.create(name)
	if err != nil {
		return err
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

func (x *learnerExport) omit(what, why string) {
	x.manifest.NotIncluded = append(x.manifest.NotIncluded, ExportOmission{What: what, Why: why})
}

func (x *learnerExport) write(ctx context.Context) error {
	x.omit("activity profiles and activity definitions", "they describe activities, not a learner")
	x.omit("statements of other tenants", "each tenant is a separate LRS; export the learner there too")
	x.omit("the roster (users, classes, enrollments)", "it is a copy of the education provider's OneRoster data; ask the provider")
	x.omit("the audit log", "it records operators' actions and names no learner")
	if err := x.statements(ctx); err != nil {
		return err
	}
	if err := x.documents(ctx); err != nil {
		return err
	}
	if err := x.writeAttachments(ctx); err != nil {
		return err
	}
	return x.results(ctx)
}

// exportedStatement is what an export reads of a statement.
type exportedStatement struct {
	Verb struct {
		ID string `json:"id"`
	} `json:"verb"`
	Object struct {
		ObjectType string `json:"objectType"`
		ID         string `json:"id"`
	} `json:"object"`
	Attachments []struct {
		SHA2 string `json:"sha2"`
	} `json:"attachments"`
}

// statements writes statements.json: the statements where the agent
// appears in any role, oldest first, each voided one right after the
// voiding statement that names it.
func (x *learnerExport) statements(ctx context.Context) error {
	w, err := x.create("statements.json")
	if err != nil {
		return err
	}
	n := 0
	put := func(r *statements.Record) error {
		sep := ",\n"
		if n == 0 {
			sep = "[\n"
		}
		n++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		_, err := w.Write(r.JSON())
		return err
	}
	term := statements.Filter{Agent: x.key, RelatedAgents: true}.Terms()[0]
	voided := map[string]bool{}
	f := statements.Filter{Agent: x.key, RelatedAgents: true, Ascending: true, Limit: statements.MaxLimit, MaxBytes: exportStatementBytes}
	for {
		p, err := x.a.Store.QueryStatements(ctx, x.tenant, f)
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			if err := put(r); err != nil {
				return err
			}
			x.manifest.Counts.Statements++
			st := x.read(r)
			if st.Verb.ID != statements.VerbVoided || st.Object.ObjectType != "StatementRef" {
				continue
			}
			id := strings.ToLower(st.Object.ID)
			if voided[id] {
				continue
			}
			v, err := x.a.Store.Statement(ctx, x.tenant, id, true)
			if statements.ErrorCode(err) == statements.ENotFound {
				continue
			}
			if err != nil {
				return err
			}
			// The voiding statement may name the learner while the one
			// it voids is someone else's.
			var vs statements.Statement
			if json.Unmarshal(v.Statement, &vs) != nil || !slices.Contains(vs.Terms(), term) {
				continue
			}
			voided[id] = true
			if err := put(v); err != nil {
				return err
			}
			x.read(v)
			x.manifest.Counts.VoidedStatements++
		}
		if !p.More || len(p.Records) == 0 {
			break
		}
		f.After = p.Records[len(p.Records)-1].Position
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

// read returns what the export reads of r's statement, and notes its
// attachments.
func (x *learnerExport) read(r *statements.Record) exportedStatement {
	var st exportedStatement
	json.Unmarshal(r.Statement, &st)
	for _, at := range st.Attachments {
		if statements.NewSHA2(at.SHA2) != nil && !x.attachments[at.SHA2] {
			x.attachments[at.SHA2] = true
			x.order = append(x.order, at.SHA2)
		}
	}
	return st
}

// documents writes the agent's state and agent profile documents under
// documents/, each as a file, and their index documents/documents.json.
func (x *learnerExport) documents(ctx context.Context) error {
	index := []exportDocumentJSON{}
	var after statements.DocumentKey
	for {
		docs, err := x.a.Store.AgentDocuments(ctx, x.tenant, x.key, after, exportDocuments)
		if err != nil {
			return err
		}
		for _, d := range docs {
			name := fmt.Sprintf("documents/%06d", len(index)+1)
			w, err := x.create(name)
			if err != nil {
				return err
			}
			if _, err := w.Write(d.Content); err != nil {
				return err
			}
			index = append(index, exportDocumentJSON{File: name, Kind: d.Key.Kind, ActivityID: d.Key.ActivityID,
				Registration: d.Key.Registration, ID: d.Key.ID, ContentType: d.ContentType, Updated: d.Updated.UTC()})
		}
		if len(docs) < exportDocuments {
			break
		}
		after = docs[len(docs)-1].Key
	}
	x.manifest.Counts.Documents = len(index)
	return x.json("documents/documents.json", index)
}

// writeAttachments writes the attachments of the exported statements
// under attachments/, each streamed from the store.
func (x *learnerExport) writeAttachments(ctx context.Context) error {
	var missing []string
	for _, sha2 := range x.order {
		rc, _, err := x.a.Store.Attachment(ctx, x.tenant, sha2)
		if statements.ErrorCode(err) == statements.ENotFound {
			missing = append(missing, sha2)
			continue
		}
		if err != nil {
			return err
		}
		w, err := x.create("attachments/" + sha2)
		if err == nil {
			_, err = io.Copy(w, rc)
		}
		rc.Close()
		if err != nil {
			return err
		}
		x.manifest.Counts.Attachments++
	}
	if len(missing) > 0 {
		x.omit("attachments "+strings.Join(missing, ", "), "the LRS holds no content for them (sent by fileUrl only)")
	}
	return nil
}

// results writes oneroster-results.json: the gradebook results written
// for the student the agent is (oneroster.ResultView each).
func (x *learnerExport) results(ctx context.Context) error {
	if x.a.OneRoster == nil {
		x.omit("OneRoster gradebook results", "this LRS does not write results back to OneRoster")
		return nil
	}
	student, ok, err := x.a.OneRoster.StudentOf(ctx, x.tenant, x.agent)
	if err != nil {
		return err
	}
	w, err := x.create("oneroster-results.json")
	if err != nil {
		return err
	}
	if !ok {
		x.omit("OneRoster gradebook results", "the agent is no OneRoster student of the tenant (not an account of its identity home page, or not in its required student table)")
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	x.manifest.OneRosterStudent = student
	n := 0
	err = x.a.OneRoster.StudentResults(ctx, x.tenant, student, func(v oneroster.ResultView) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		sep := ",\n"
		if n == 0 {
			sep = "[\n"
		}
		n++
		if _, err := io.WriteString(w, sep); err == nil {
			_, err = w.Write(b)
		}
		return err
	})
	if err != nil {
		return err
	}
	x.manifest.Counts.OneRosterResults = n
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	_, err = io.WriteString(w, end)
	return err
}
