package lrs

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// The sandbox's OneRoster provider: the LRS serves each sandbox's test
// school and its gradebook as a OneRoster 1.2 service would, so that a
// vendor's app (or any OneRoster client) reads the rostering collections
// and sees the results of its statements arrive the standard way.
//
//	POST {SandboxOneRosterPath}/token                    OAuth 2 client credentials
//	GET  {SandboxOneRosterPath}/ims/oneroster/rostering/v1p2/...
//	GET  {SandboxOneRosterPath}/ims/oneroster/gradebook/v1p2/...
//
// The client is the sandbox's credential: its key is the client id, its
// secret the client secret, checked as the xAPI API checks them (the same
// failed-login slowdown and rate limit). A token names the credential and
// is signed with a key only the store knows for it (its stored secret
// hash), so any replica verifies it, and rotating the secret, revoking the
// credential or deleting the sandbox ends it. The tenant comes from the
// token's credential only: a sandbox's token never reads another tenant.
//
// The rostering data is the sandbox's seed (SandboxSeed), the identities
// the teacher view and the sandbox gradebook use; the results are the
// sandbox gradebook's (sandboxgradebook.go).

// SandboxOneRosterPath is the path under which the sandboxes' OneRoster
// provider is served.
const SandboxOneRosterPath = "/sandbox/oneroster"

const (
	sandboxTokenPath     = SandboxOneRosterPath + "/token"
	sandboxRosteringPath = SandboxOneRosterPath + "/ims/oneroster/rostering/v1p2"
	sandboxGradebookPath = SandboxOneRosterPath + "/ims/oneroster/gradebook/v1p2"
)

// ScopeGradebookRead is the OAuth 2 scope of OneRoster 1.2 that allows
// reading the gradebook's line items and results.
const ScopeGradebookRead = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly"

// sandboxORScopes are the scopes the provider grants, in the order of
// their bits in a token.
var sandboxORScopes = []string{oneroster.ScopeRosterCore, oneroster.ScopeRoster, ScopeGradebookRead}

// SandboxTokenTTL is how long a token of the sandboxes' OneRoster
// provider is valid.
const SandboxTokenTTL = time.Hour

// Paging of the provider's collections, as in the OneRoster binding.
const (
	sandboxORDefaultLimit = 100
	sandboxORMaxLimit     = 1000
)

// SandboxOneRosterJSON are the URLs of a sandbox's OneRoster provider.
type SandboxOneRosterJSON struct {
	TokenURL     string `json:"tokenUrl"`
	RosteringURL string `json:"rosteringUrl"`
	GradebookURL string `json:"gradebookUrl"`
}

// SandboxOneRosterURLs returns the URLs of the sandboxes' OneRoster
// provider of the LRS whose xAPI endpoint is endpoint (".../xapi/"); nil
// for "".
func SandboxOneRosterURLs(endpoint string) *SandboxOneRosterJSON {
	if endpoint == "" {
		return nil
	}
	base := strings.TrimSuffix(strings.TrimRight(endpoint, "/"), "/xapi")
	return &SandboxOneRosterJSON{TokenURL: base + sandboxTokenPath, RosteringURL: base + sandboxRosteringPath,
		GradebookURL: base + sandboxGradebookPath}
}

// SetEndpoint sets the sandbox's xAPI endpoint and, from it, the URLs of
// its OneRoster provider.
func (sb *SandboxJSON) SetEndpoint(endpoint string) {
	sb.Endpoint, sb.OneRoster = endpoint, SandboxOneRosterURLs(endpoint)
}

// oauthError answers a token request with an RFC 6749 error.
func (s *Server) oauthError(c *gin.Context, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Basic realm="sandbox OneRoster"`)
	}
	if _, ok := c.Get(ctxError); !ok {
		codes := map[int]string{http.StatusBadRequest: statements.EInvalid, http.StatusUnauthorized: statements.EUnauthorized,
			http.StatusTooManyRequests: statements.ETooMany, http.StatusServiceUnavailable: statements.EUnavailable}
		c.Set(ctxError, error(statements.Errorf(cmp.Or(codes[status], statements.EInternal), "%s: %s", code, desc)))
	}
	c.Set(ctxStatus, status)
	c.JSON(status, gin.H{"error": code, "error_description": desc})
	c.Abort()
}

// handleSandboxToken serves POST /sandbox/oneroster/token: the OAuth 2
// client credentials grant (RFC 6749 4.4) for a sandbox's credential,
// authenticated with HTTP Basic (client_secret_basic) or in the body
// (client_secret_post). scope: any of the rostering read scopes and
// gradebook.readonly; all three when absent.
func (s *Server) handleSandboxToken(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/x-www-form-urlencoded" {
		s.oauthError(c, http.StatusBadRequest, "invalid_request", "Content-Type: must be application/x-www-form-urlencoded")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)
	if err := c.Request.ParseForm(); err != nil {
		s.oauthError(c, http.StatusBadRequest, "invalid_request", "body: must be a form of at most 16 KiB")
		return
	}
	form := c.Request.PostForm
	for _, k := range []string{"grant_type", "scope", "client_id", "client_secret"} {
		if len(form[k]) > 1 {
			s.oauthError(c, http.StatusBadRequest, "invalid_request", k+": must not be repeated")
			return
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		s.oauthError(c, http.StatusBadRequest, "invalid_request", "grant_type: required, client_credentials")
		return
	default:
		s.oauthError(c, http.StatusBadRequest, "unsupported_grant_type", "grant_type: "+truncate(gt, 64)+" is not supported; use client_credentials")
		return
	}
	var bits uint8
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		scopes = sandboxORScopes
	}
	for _, sc := range scopes {
		i := slices.Index(sandboxORScopes, sc)
		if i < 0 {
			s.oauthError(c, http.StatusBadRequest, "invalid_scope", "scope: "+truncate(sc, 120)+" is not granted; the sandbox grants "+strings.Join(sandboxORScopes, " "))
			return
		}
		bits |= 1 << i
	}
	key, secret, basic := c.Request.BasicAuth()
	_, postID := form["client_id"]
	_, postSecret := form["client_secret"]
	switch {
	case basic && postSecret:
		s.oauthError(c, http.StatusBadRequest, "invalid_request", "client_secret: use one way of client authentication, HTTP Basic or the body, not both")
		return
	case basic:
		// RFC 6749 2.3.1: the id and secret are form-encoded before Basic.
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	case postID && postSecret:
		key, secret = form.Get("client_id"), form.Get("client_secret")
	default:
		s.oauthError(c, http.StatusUnauthorized, "invalid_client",
			"client authentication required: HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)")
		return
	}
	p, wait, err := s.loginWith(c, key, secret)
	switch {
	case wait > 0:
		s.prom.throttled.WithLabelValues("login").Inc()
		c.Header("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
		s.oauthError(c, http.StatusTooManyRequests, "invalid_client", "too many failed attempts; wait before trying again")
		return
	case err == errBadCredential:
		s.oauthError(c, http.StatusUnauthorized, "invalid_client", "unknown client_id or wrong client_secret")
		return
	case statements.ErrorCode(err) == statements.EForbidden:
		s.oauthError(c, http.StatusUnauthorized, "invalid_client", statements.ErrorMessage(err))
		return
	case err != nil:
		de, _ := asDomainError(err)
		if de.Code == statements.EUnavailable {
			s.oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", de.Message)
		} else {
			c.Set(ctxError, err)
			s.oauthError(c, http.StatusInternalServerError, "server_error", "internal error; quote the request id "+requestIDOf(c)+" to the operator")
		}
		return
	}
	if ok, wait := s.rates.allow(p.cred.Key, perReplica(p.limits, s.replicas.Count()), s.now()); !ok {
		s.prom.throttled.WithLabelValues("rate").Inc()
		c.Header("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
		s.oauthError(c, http.StatusTooManyRequests, "invalid_request", "rate limit of this credential exceeded")
		return
	}
	c.Set(ctxCredential, p.cred)
	if _, err := s.sandboxOf(c, p.cred); err != nil {
		if statements.ErrorCode(err) == statements.EForbidden {
			s.oauthError(c, http.StatusBadRequest, "unauthorized_client", statements.ErrorMessage(err))
		} else {
			c.Set(ctxError, err)
			s.oauthError(c, http.StatusInternalServerError, "server_error", "internal error; quote the request id "+requestIDOf(c)+" to the operator")
		}
		return
	}
	var granted []string
	for i, sc := range sandboxORScopes {
		if bits&(1<<i) != 0 {
			granted = append(granted, sc)
		}
	}
	c.JSON(http.StatusOK, gin.H{"access_token": sandboxToken(p.cred, s.now().Add(SandboxTokenTTL), bits), "token_type": "Bearer",
		"expires_in": int(SandboxTokenTTL.Seconds()), "scope": strings.Join(granted, " ")})
}

// sandboxOf returns the sandbox tenant of cred; EForbidden when cred is
// not a sandbox's.
func (s *Server) sandboxOf(c *gin.Context, cred *statements.Credential) (*statements.Tenant, error) {
	notSandbox := statements.Errorf(statements.EForbidden, "the credential is not a sandbox's: the OneRoster provider of the LRS serves sandboxes only")
	vendor, ok := strings.CutPrefix(cred.Tenant, SandboxPrefix)
	if !ok {
		return nil, notSandbox
	}
	t, err := s.admin.Tenant(c.Request.Context(), cred.Tenant)
	if statements.ErrorCode(err) == statements.ENotFound || (err == nil && t.Sandbox != vendor) {
		return nil, notSandbox
	}
	return t, err
}

// Tokens: "or1.KEY.EXPIRY.SCOPES.MAC", KEY base64url, EXPIRY Unix seconds,
// SCOPES the bits of sandboxORScopes, MAC an HMAC-SHA-256 of the rest
// keyed by the credential's stored secret hash.
const (
	sandboxTokenPrefix = "or1."
	maxSandboxToken    = 512
)

func sandboxTokenMAC(secretHash []byte, payload string) []byte {
	m := hmac.New(sha256.New, secretHash)
	m.Write([]byte("digione sandbox OneRoster token\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// sandboxToken returns a token of cred, valid until exp, for the scopes
// of bits.
func sandboxToken(cred *statements.Credential, exp time.Time, bits uint8) string {
	payload := sandboxTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(cred.Key)) + "." +
		strconv.FormatInt(exp.Unix(), 10) + "." + strconv.Itoa(int(bits))
	return payload + "." + base64.RawURLEncoding.EncodeToString(sandboxTokenMAC(cred.SecretHash, payload))
}

// parseSandboxToken reads a token without verifying it: its key, expiry,
// scope bits, signed part and MAC.
func parseSandboxToken(tok string) (key string, exp time.Time, bits uint8, payload string, mac []byte, ok bool) {
	if len(tok) > maxSandboxToken || !strings.HasPrefix(tok, sandboxTokenPrefix) {
		return "", time.Time{}, 0, "", nil, false
	}
	i := strings.LastIndexByte(tok, '.')
	payload = tok[:i]
	parts := strings.Split(strings.TrimPrefix(payload, sandboxTokenPrefix), ".")
	if len(parts) != 3 {
		return "", time.Time{}, 0, "", nil, false
	}
	k, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	secs, err2 := strconv.ParseInt(parts[1], 10, 64)
	b, err3 := strconv.ParseUint(parts[2], 10, 8)
	mac, err4 := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return "", time.Time{}, 0, "", nil, false
	}
	return string(k), time.Unix(secs, 0), uint8(b), payload, mac, true
}

// ctxSandboxProvider holds the *sandboxProvider of a request with a valid
// token.
const ctxSandboxProvider = "lrs.sandboxProvider"

// sandboxBearer requires a valid token of the provider granting any of
// scopes, and the credential's rate limit; it keeps the sandbox the token
// names for the handler.
func (s *Server) sandboxBearer(scopes ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		unauthorized := func(msg string) {
			s.prom.authFails.WithLabelValues("oneroster-token").Inc()
			c.Header("WWW-Authenticate", `Bearer realm="sandbox OneRoster", error="invalid_token"`)
			s.orFail(c, statements.Errorf(statements.EUnauthorized, "Authorization: %s", msg))
		}
		h := c.GetHeader("Authorization")
		if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
			unauthorized("a bearer token of " + sandboxTokenPath + " required")
			return
		}
		key, exp, bits, payload, mac, ok := parseSandboxToken(strings.TrimSpace(h[7:]))
		if !ok {
			unauthorized("not a token of " + sandboxTokenPath)
			return
		}
		// An unknown key, a revoked credential and a wrong MAC read the
		// same, so that a token tells nothing of which keys exist.
		const invalid = "the token is not valid; get a new one (rotating the secret or deleting the sandbox ends its tokens)"
		ctx := c.Request.Context()
		cred, err := s.store.Credential(ctx, key)
		if err != nil && statements.ErrorCode(err) != statements.ENotFound {
			s.orFail(c, err)
			return
		}
		if err != nil || cred.Revoked || !hmac.Equal(mac, sandboxTokenMAC(cred.SecretHash, payload)) {
			unauthorized(invalid)
			return
		}
		if !s.now().Before(exp) {
			unauthorized("the token expired; get a new one")
			return
		}
		t, err := s.sandboxOf(c, cred)
		if statements.ErrorCode(err) == statements.EForbidden {
			unauthorized("the token's sandbox no longer exists")
			return
		}
		if err != nil {
			s.orFail(c, err)
			return
		}
		if t.Disabled {
			s.orFail(c, statements.Errorf(statements.EForbidden, "the tenant of this credential is disabled"))
			return
		}
		c.Set(ctxCredential, cred)
		held := false
		for i, sc := range sandboxORScopes {
			held = held || (bits&(1<<i) != 0 && slices.Contains(scopes, sc))
		}
		if !held {
			c.Header("WWW-Authenticate", `Bearer realm="sandbox OneRoster", error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
			s.orFail(c, statements.Errorf(statements.EForbidden, "the token lacks the scope %s", strings.Join(scopes, " or ")))
			return
		}
		limits := cred.Limits.Over(t.Limits).Over(s.auth.defaults)
		if ok, wait := s.rates.allow(cred.Key, perReplica(limits, s.replicas.Count()), s.now()); !ok {
			s.prom.throttled.WithLabelValues("rate").Inc()
			c.Header("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
			s.orFail(c, statements.Errorf(statements.ETooMany, "rate limit of this credential exceeded"))
			return
		}
		origin := strings.TrimSuffix(requestEndpoint(c, ""), "/xapi/")
		c.Set(ctxSandboxProvider, &sandboxProvider{tenant: *t, seed: SandboxSeed(t.Sandbox),
			rostering: origin + sandboxRosteringPath, gradebook: origin + sandboxGradebookPath,
			modified: oneroster.FormatTime(t.Created)})
		c.Next()
	}
}

// imsxStatus is OneRoster's status report of a failed request.
type imsxStatus struct {
	CodeMajor   string `json:"imsx_codeMajor"`
	Severity    string `json:"imsx_severity"`
	Description string `json:"imsx_description"`
	CodeMinor   struct {
		Fields []imsxCodeMinorField `json:"imsx_codeMinorField"`
	} `json:"imsx_CodeMinor"`
}

type imsxCodeMinorField struct {
	Name  string `json:"imsx_codeMinorFieldName"`
	Value string `json:"imsx_codeMinorFieldValue"`
}

// orFail answers err as OneRoster's status report, with the status code
// of statusOf, and stops the handler chain.
func (s *Server) orFail(c *gin.Context, err error) {
	var qe *orQueryError
	if errors.As(err, &qe) {
		err = qe.err
	}
	de, _ := asDomainError(err)
	if (de.Code == statements.EInternal || de.Code == statements.EUnavailable) && c.Request.Context().Err() != nil {
		c.Set(ctxStatus, statusClientClosed)
		c.AbortWithStatus(statusClientClosed)
		return
	}
	minor := map[string]string{statements.EInvalid: "invaliddata", statements.EUnauthorized: "unauthorisedrequest",
		statements.EForbidden: "forbidden", statements.ENotFound: "unknownobject", statements.ETooMany: "server_busy",
		statements.EUnavailable: "server_busy"}[de.Code]
	desc := de.Message
	if qe != nil {
		minor = qe.minor
	}
	if minor == "" {
		minor, desc = "internal_server_error", "internal error; quote the request id "+requestIDOf(c)+" to the operator"
	}
	if de.Code == statements.EUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "5")
	}
	st := imsxStatus{CodeMajor: "failure", Severity: "error", Description: desc}
	st.CodeMinor.Fields = []imsxCodeMinorField{{Name: "TargetEndSystem", Value: minor}}
	status := statusOf(de.Code)
	c.Set(ctxError, error(de))
	c.Set(ctxStatus, status)
	c.JSON(status, st)
	c.Abort()
}

// The records of the provider, in the OneRoster 1.2 JSON binding.
type (
	orBase struct {
		SourcedID        string            `json:"sourcedId"`
		Status           string            `json:"status"`
		DateLastModified string            `json:"dateLastModified"`
		Metadata         map[string]string `json:"metadata,omitempty"`
	}
	orOrg struct {
		orBase
		Name       string              `json:"name"`
		Type       string              `json:"type"`
		Identifier string              `json:"identifier"`
		Children   []oneroster.GUIDRef `json:"children"`
	}
	orUserID struct {
		Type       string `json:"type"`
		Identifier string `json:"identifier"`
	}
	orRole struct {
		RoleType string            `json:"roleType"`
		Role     string            `json:"role"`
		Org      oneroster.GUIDRef `json:"org"`
	}
	orUser struct {
		orBase
		Username    string            `json:"username"`
		UserIDs     []orUserID        `json:"userIds"`
		EnabledUser bool              `json:"enabledUser"`
		GivenName   string            `json:"givenName"`
		FamilyName  string            `json:"familyName"`
		Roles       []orRole          `json:"roles"`
		PrimaryOrg  oneroster.GUIDRef `json:"primaryOrg"`
		Identifier  string            `json:"identifier,omitempty"`
	}
	orClass struct {
		orBase
		Title     string              `json:"title"`
		ClassCode string              `json:"classCode"`
		ClassType string              `json:"classType"`
		Course    oneroster.GUIDRef   `json:"course"`
		School    oneroster.GUIDRef   `json:"school"`
		Terms     []oneroster.GUIDRef `json:"terms"`
	}
	orEnrollment struct {
		orBase
		User    oneroster.GUIDRef `json:"user"`
		Class   oneroster.GUIDRef `json:"class"`
		School  oneroster.GUIDRef `json:"school"`
		Role    string            `json:"role"`
		Primary bool              `json:"primary"`
	}
	orCourse struct {
		orBase
		Title      string            `json:"title"`
		CourseCode string            `json:"courseCode"`
		Org        oneroster.GUIDRef `json:"org"`
	}
	orAcademicSession struct {
		orBase
		Title      string `json:"title"`
		Type       string `json:"type"`
		StartDate  string `json:"startDate"`
		EndDate    string `json:"endDate"`
		SchoolYear string `json:"schoolYear"`
	}
	orCategory struct {
		orBase
		Title string `json:"title"`
	}
	orLineItem struct {
		orBase
		Title          string            `json:"title"`
		AssignDate     string            `json:"assignDate"`
		DueDate        string            `json:"dueDate"`
		Class          oneroster.GUIDRef `json:"class"`
		School         oneroster.GUIDRef `json:"school"`
		Category       oneroster.GUIDRef `json:"category"`
		ResultValueMin float64           `json:"resultValueMin"`
		ResultValueMax float64           `json:"resultValueMax"`
	}
	orResult struct{ oneroster.Result }
)

// orRecord is a record with a sourcedId.
type orRecord interface{ id() string }

func (b orBase) id() string   { return b.SourcedID }
func (r orResult) id() string { return r.SourcedID }

// sandboxProvider is one request's view of a sandbox's OneRoster data.
type sandboxProvider struct {
	tenant    statements.Tenant
	seed      SandboxSchool
	rostering string // the URL of the rostering service, as requested
	gradebook string // the URL of the gradebook service, as requested
	modified  string // the dateLastModified of the seeded records
}

func (p *sandboxProvider) base(id string) orBase {
	return orBase{SourcedID: id, Status: oneroster.StatusActive, DateLastModified: p.modified}
}

func (p *sandboxProvider) ref(base, path, typ, id string) oneroster.GUIDRef {
	return oneroster.GUIDRef{Href: base + "/" + path + "/" + url.PathEscape(id), SourcedID: id, Type: typ}
}

func (p *sandboxProvider) school() oneroster.GUIDRef {
	return p.ref(p.rostering, "orgs", "org", p.seed.SourcedID)
}

func (p *sandboxProvider) orgs() []orOrg {
	return []orOrg{{orBase: p.base(p.seed.SourcedID), Name: p.seed.Name, Type: "school", Identifier: p.seed.OID, Children: []oneroster.GUIDRef{}}}
}

func (p *sandboxProvider) hasClass(id string) bool {
	return slices.ContainsFunc(p.seed.Classes, func(c SandboxClass) bool { return c.SourcedID == id })
}

func (p *sandboxProvider) noClass(id string) error {
	return statements.Errorf(statements.ENotFound, "no class with sourcedId %q", id)
}

func (p *sandboxProvider) classes() []orClass {
	out := []orClass{}
	for _, c := range p.seed.Classes {
		out = append(out, orClass{orBase: p.base(c.SourcedID), Title: c.Title, ClassCode: c.SourcedID, ClassType: "scheduled",
			Course: p.ref(p.rostering, "courses", "course", "course-"+c.SourcedID), School: p.school(),
			Terms: []oneroster.GUIDRef{p.ref(p.rostering, "terms", "academicSession", sandboxTerm)}})
	}
	return out
}

// courses returns a course of each class, the one its course names.
func (p *sandboxProvider) courses() []orCourse {
	out := []orCourse{}
	for _, c := range p.seed.Classes {
		out = append(out, orCourse{orBase: p.base("course-" + c.SourcedID), Title: c.Title, CourseCode: c.SourcedID, Org: p.school()})
	}
	return out
}

// sandboxTerm is the sourcedId of the one term of the test school: the
// sandbox's life.
const sandboxTerm = "sandbox-term"

func (p *sandboxProvider) terms() []orAcademicSession {
	start, end := p.tenant.Created.UTC(), p.tenant.Expires.UTC()
	return []orAcademicSession{{orBase: p.base(sandboxTerm), Title: "Sandbox term", Type: "term",
		StartDate: start.Format(time.DateOnly), EndDate: end.Format(time.DateOnly), SchoolYear: strconv.Itoa(end.Year())}}
}

// sandboxCategory is the sourcedId of the one category of the line
// items.
const sandboxCategory = "sandbox-category"

func (p *sandboxProvider) categories() []orCategory {
	return []orCategory{{orBase: p.base(sandboxCategory), Title: "Sandbox"}}
}

// people returns the seeded teachers and learners, teachers first.
func (p *sandboxProvider) people() []SandboxPerson {
	return p.seed.People()
}

func (p *sandboxProvider) user(sp SandboxPerson) orUser {
	given, family, _ := strings.Cut(sp.Name, " ")
	u := orUser{orBase: p.base(sp.SourcedID), Username: sp.SourcedID, EnabledUser: true, GivenName: given, FamilyName: family,
		UserIDs:    []orUserID{{Type: "MPASSid", Identifier: sp.Account.Name}},
		Roles:      []orRole{{RoleType: "primary", Role: sp.Role, Org: p.school()}},
		PrimaryOrg: p.school(), Identifier: sp.LearnerNumber}
	if sp.LearnerNumber != "" {
		u.UserIDs = append(u.UserIDs, orUserID{Type: "LearnerNumber", Identifier: sp.LearnerNumber})
	}
	return u
}

// users returns the users with role, or all for "".
func (p *sandboxProvider) users(role string) []orUser {
	out := []orUser{}
	for _, sp := range p.people() {
		if role == "" || sp.Role == role {
			out = append(out, p.user(sp))
		}
	}
	return out
}

// classUsers returns the users of class with role; ENotFound when the
// class does not exist.
func (p *sandboxProvider) classUsers(class, role string) ([]orUser, error) {
	if !p.hasClass(class) {
		return nil, p.noClass(class)
	}
	out := []orUser{}
	for _, sp := range p.people() {
		if sp.Role == role && slices.Contains(sp.Classes, class) {
			out = append(out, p.user(sp))
		}
	}
	return out, nil
}

func (p *sandboxProvider) enrollments() []orEnrollment {
	out := []orEnrollment{}
	for _, sp := range p.people() {
		for _, c := range sp.Classes {
			out = append(out, orEnrollment{orBase: p.base("enr-" + c + "-" + sp.SourcedID),
				User: p.ref(p.rostering, "users", "user", sp.SourcedID), Class: p.ref(p.rostering, "classes", "class", c),
				School: p.school(), Role: sp.Role, Primary: sp.Role == statements.RoleTeacher})
		}
	}
	return out
}

// lineItems returns the line items of class, or all for "".
func (p *sandboxProvider) lineItems(class string) []orLineItem {
	out := []orLineItem{}
	for _, li := range p.seed.LineItems {
		if class != "" && li.Class != class {
			continue
		}
		b := p.base(li.SourcedID)
		b.Metadata = map[string]string{"xapiActivityId": li.Activity}
		out = append(out, orLineItem{orBase: b, Title: li.Title,
			AssignDate: p.modified, DueDate: oneroster.FormatTime(p.tenant.Expires),
			Class: p.ref(p.rostering, "classes", "class", li.Class), School: p.school(),
			Category:       p.ref(p.gradebook, "categories", "category", sandboxCategory),
			ResultValueMin: li.Min, ResultValueMax: li.Max})
	}
	return out
}

// sandboxORResults returns the results of the sandbox gradebook, of the
// line items of class or all for "", with the provider's references and
// the stored time of their statement as dateLastModified.
func (s *Server) sandboxORResults(c *gin.Context, p *sandboxProvider, class string) ([]orResult, error) {
	runs, results, _, _, err := s.adminOps().sandboxGradebook(c.Request.Context(), p.tenant)
	if err != nil {
		return nil, err
	}
	stored := map[string]time.Time{}
	for _, r := range runs {
		stored[r.Statement] = r.Stored
	}
	classOf := map[string]string{}
	for _, li := range p.seed.LineItems {
		classOf[li.SourcedID] = li.Class
	}
	out := []orResult{}
	for _, r := range results {
		if class != "" && classOf[r.LineItem.SourcedID] != class {
			continue
		}
		r.LineItem = p.ref(p.gradebook, "lineItems", "lineItem", r.LineItem.SourcedID)
		r.Student = p.ref(p.rostering, "users", "user", r.Student.SourcedID)
		if r.Class != nil {
			ref := p.ref(p.rostering, "classes", "class", r.Class.SourcedID)
			r.Class = &ref
		}
		if t, ok := stored[r.Metadata[oneroster.MetaStatementID]]; ok {
			r.DateLastModified = oneroster.FormatTime(t)
		} else {
			r.DateLastModified = r.ScoreDate
		}
		out = append(out, orResult{r})
	}
	return out, nil
}

// orPaging reads limit and offset; EInvalid naming the one that is bad.
func orPaging(c *gin.Context) (limit, offset int, err error) {
	limit = sandboxORDefaultLimit
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, statements.Errorf(statements.EInvalid, "limit: must be a whole number from 1 to %d, got %q", sandboxORMaxLimit, truncate(v, 40))
		}
		limit = min(n, sandboxORMaxLimit)
	}
	if v, ok := c.GetQuery("offset"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, statements.Errorf(statements.EInvalid, "offset: must be a whole number, 0 or more, got %q", truncate(v, 40))
		}
		offset = n
	}
	return limit, offset, nil
}

func providerOf(c *gin.Context) *sandboxProvider {
	v, _ := c.Get(ctxSandboxProvider)
	return v.(*sandboxProvider)
}

// orList returns the handler of a collection: a page of list's records
// under key ({"<key>": [...]}), filtered, sorted and with the fields the
// request asks for (sandbox_oneroster_query.go), with X-Total-Count (of
// what the filter keeps) and Link headers (first, last, and prev and
// next where there are such pages).
func orList[T orRecord](s *Server, key string, list func(*gin.Context, *sandboxProvider) ([]T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit, offset, err := orPaging(c)
		if err != nil {
			s.orFail(c, err)
			return
		}
		q, err := parseORQuery(c.GetQuery, orFieldsOf(reflect.TypeFor[T]()), true)
		if err != nil {
			s.orFail(c, err)
			return
		}
		records, err := list(c, providerOf(c))
		if err != nil {
			s.orFail(c, err)
			return
		}
		all, err := orApply(q, records)
		if err != nil {
			s.orFail(c, err)
			return
		}
		total := len(all)
		page := all[min(offset, total):min(offset+limit, total)]
		link := func(off int, rel string) string {
			q := c.Request.URL.Query()
			q.Set("limit", strconv.Itoa(limit))
			q.Set("offset", strconv.Itoa(off))
			return "<" + strings.TrimSuffix(requestEndpoint(c, ""), "/xapi/") + c.Request.URL.Path + "?" + q.Encode() + `>; rel="` + rel + `"`
		}
		links := []string{link(0, "first"), link(max(0, (total-1)/limit*limit), "last")}
		if offset > 0 {
			links = append(links, link(max(0, offset-limit), "prev"))
		}
		if offset+limit < total {
			links = append(links, link(offset+limit, "next"))
		}
		c.Header("X-Total-Count", strconv.Itoa(total))
		c.Header("Link", strings.Join(links, ", "))
		c.JSON(http.StatusOK, map[string]any{key: page})
	}
}

// orOne returns the handler of one record of a collection by its
// sourcedId (the path's id), under key, with the fields the request asks
// for; 404 naming what when none.
func orOne[T orRecord](s *Server, key, what string, list func(*gin.Context, *sandboxProvider) ([]T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, err := parseORQuery(c.GetQuery, orFieldsOf(reflect.TypeFor[T]()), false)
		if err != nil {
			s.orFail(c, err)
			return
		}
		all, err := list(c, providerOf(c))
		if err != nil {
			s.orFail(c, err)
			return
		}
		id := c.Param("id")
		i := slices.IndexFunc(all, func(r T) bool { return r.id() == id })
		if i < 0 {
			s.orFail(c, statements.Errorf(statements.ENotFound, "no %s with sourcedId %q", what, truncate(id, 100)))
			return
		}
		one, err := orApply(q, all[i:i+1])
		if err != nil {
			s.orFail(c, err)
			return
		}
		c.JSON(http.StatusOK, map[string]any{key: one[0]})
	}
}
