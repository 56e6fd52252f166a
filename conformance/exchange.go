package conformance

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Exchange is one HTTP request a check sent and the response it got, as a
// report shows it: credentials are redacted and bodies cut to an excerpt.
type Exchange struct {
	Request Message
	// Response is nil when no response came.
	Response *Message
	// Err is the transport error, if any.
	Err string
}

// Message is a request or a response of an Exchange.
type Message struct {
	Method string // requests only
	URL    string // requests only
	Status int    // responses only
	Header http.Header
	// Body is the start of the body, at most MaxExcerpt bytes, as text.
	Body string
	// BodyBytes is the length of the whole body.
	BodyBytes int
}

// MaxExcerpt bounds the body excerpts of an Exchange.
const MaxExcerpt = 4 << 10

const redacted = "[redacted]"

// requestMessage describes the request hr whose body is body.
func requestMessage(hr *http.Request, body []byte) Message {
	h := hr.Header.Clone()
	if h.Get("Authorization") != "" {
		kind, _, _ := strings.Cut(h.Get("Authorization"), " ")
		h.Set("Authorization", kind+" "+redacted)
	}
	text := excerpt(body)
	// The alternate request syntax carries the credential in the form.
	if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Has("Authorization") {
			form.Set("Authorization", redacted)
			text = excerpt([]byte(form.Encode()))
		}
	}
	return Message{Method: hr.Method, URL: hr.URL.String(), Header: h, Body: text, BodyBytes: len(body)}
}

// responseMessage describes the response resp whose body is body.
func responseMessage(resp *http.Response, body []byte) *Message {
	return &Message{Status: resp.StatusCode, Header: resp.Header.Clone(), Body: excerpt(body), BodyBytes: len(body)}
}

// excerpt returns the start of b as valid UTF-8, at most MaxExcerpt bytes.
func excerpt(b []byte) string {
	if len(b) > MaxExcerpt {
		b = b[:MaxExcerpt]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
