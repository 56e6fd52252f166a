package lrs

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/digione/lrs/statements"
)

// alternateHeaders are the request headers the alternate request syntax may
// carry as form fields.
var alternateHeaders = []string{"Authorization", "X-Experience-API-Version", "Content-Type",
	"Content-Length", "If-Match", "If-None-Match", "Accept-Language"}

// maxAlternateBody bounds the form of an alternate request: it is read
// before the request can authenticate (the credential is in the form), so
// it is kept small. Larger content goes in an ordinary request.
const maxAlternateBody = 1 << 20

// errBusy answers an alternate request that found every form slot taken.
var errBusy = statements.Errorf(statements.EUnavailable, "the LRS is reading too many alternate-syntax requests at once; retry in a second")

// alternateForms bounds how many alternate-request forms are read at once.
const alternateForms = 8

// alternatePaths are the resources that take the alternate request
// syntax; a form sent anywhere else is never read.
var alternatePaths = map[string]bool{
	"/xapi/statements": true, "/xapi/activities/state": true, "/xapi/activities/profile": true,
	"/xapi/agents/profile": true, "/xapi/activities": true, "/xapi/agents": true,
}

// isAlternate reports whether r uses the alternate request syntax on a
// resource that takes it.
func isAlternate(r *http.Request) bool {
	return r.Method == http.MethodPost && alternatePaths[strings.TrimSuffix(r.URL.Path, "/")] && r.URL.Query().Has("method")
}

// alternateRequest rewrites a request in the alternate request syntax of
// xAPI 1.0.3 (POST ?method=M with headers, parameters and content as form
// fields) into the request it stands for. xAPI 2.0.0 removed the syntax.
func alternateRequest(r *http.Request, maxBody int64) (*http.Request, error) {
	q := r.URL.Query()
	method := q.Get("method")
	if len(q) != 1 || len(q["method"]) != 1 {
		return nil, statements.Errorf(statements.EInvalid, "method: with the alternate request syntax every other parameter goes in the form body")
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		return nil, statements.Errorf(statements.EInvalid, "method: must be GET, HEAD, PUT, POST or DELETE")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, statements.Errorf(statements.EInvalid, "Content-Type: the alternate request syntax needs application/x-www-form-urlencoded")
	}
	maxBody = min(maxBody, maxAlternateBody)
	if r.ContentLength > maxBody {
		return nil, statements.Errorf(statements.ETooLarge, "body: an alternate request's form is at most %d bytes; send larger content in an ordinary request", maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, statements.Errorf(statements.EInvalid, "body: %v", err)
	}
	if int64(len(body)) > maxBody {
		return nil, statements.Errorf(statements.ETooLarge, "body: an alternate request's form is at most %d bytes; send larger content in an ordinary request", maxBody)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, statements.Errorf(statements.EInvalid, "body: not a URL-encoded form: %v", err)
	}
	nr := r.Clone(r.Context())
	nr.Method = method
	nr.Header = r.Header.Clone()
	nr.Header.Del("Content-Type")
	nr.Header.Del("Content-Length")
	params := url.Values{}
	var content []byte
	for k, vs := range form {
		switch {
		case k == "content":
			content = []byte(vs[0])
		case isAlternateHeader(k):
			nr.Header.Set(k, vs[0])
		default:
			params[k] = vs
		}
	}
	if v, err := negotiate(nr.Header.Get(versionHeader)); err == nil && v != Version103 {
		return nil, statements.Errorf(statements.EInvalid, "method: the alternate request syntax is not part of xAPI %s", v)
	}
	if content != nil && nr.Header.Get("Content-Type") == "" {
		nr.Header.Set("Content-Type", "application/json")
	}
	nr.URL.RawQuery = params.Encode()
	nr.RequestURI = ""
	nr.Body = io.NopCloser(bytes.NewReader(content))
	nr.ContentLength = int64(len(content))
	nr.Header.Set("Content-Length", strconv.Itoa(len(content)))
	return nr, nil
}

func isAlternateHeader(k string) bool {
	for _, h := range alternateHeaders {
		if strings.EqualFold(k, h) {
			return true
		}
	}
	return false
}
