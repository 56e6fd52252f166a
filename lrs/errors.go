package lrs

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// statusOf is the one mapping of error codes to HTTP status codes.
func statusOf(code string) int {
	switch code {
	case statements.EInvalid:
		return http.StatusBadRequest
	case statements.EUnauthorized:
		return http.StatusUnauthorized
	case statements.EForbidden:
		return http.StatusForbidden
	case statements.ENotFound:
		return http.StatusNotFound
	case statements.EConflict:
		return http.StatusConflict
	case statements.EPreconditionFailed:
		return http.StatusPreconditionFailed
	case statements.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case statements.ETooMany:
		return http.StatusTooManyRequests
	case statements.EUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error     string   `json:"error"`
	Message   string   `json:"message"`
	Details   []string `json:"details,omitempty"`
	RequestID string   `json:"requestId"`
}

// asDomainError turns any error into a *statements.Error: validation
// errors become EInvalid with every violation listed.
func asDomainError(err error) (*statements.Error, []string) {
	var verrs validation.Errors
	if errors.As(err, &verrs) {
		details := make([]string, len(verrs))
		for i, v := range verrs {
			details[i] = v.Error()
		}
		return statements.Errorf(statements.EInvalid, "%s", err.Error()), details
	}
	var verr validation.Error
	if errors.As(err, &verr) {
		return statements.Errorf(statements.EInvalid, "%s", verr.Error()), nil
	}
	var de *statements.Error
	if errors.As(err, &de) {
		return de, nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", mbe.Limit), nil
	}
	return statements.Internal(err, "internal error"), nil
}

// statusClientClosed is the status the log gives a request whose client
// went away before it was answered (no response is written).
const statusClientClosed = 499

// fail responds to c with err and stops the handler chain. A fault that
// comes of the client having gone away (the request's context ended) is
// answered and logged as closed by the client, not as a fault of the LRS.
func (s *Server) fail(c *gin.Context, err error) {
	de, details := asDomainError(err)
	if (de.Code == statements.EInternal || de.Code == statements.EUnavailable) && c.Request.Context().Err() != nil {
		c.Set(ctxStatus, statusClientClosed)
		c.AbortWithStatus(statusClientClosed)
		return
	}
	status := statusOf(de.Code)
	switch status {
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Basic realm="xAPI"`)
	case http.StatusServiceUnavailable:
		if c.Writer.Header().Get("Retry-After") == "" {
			c.Header("Retry-After", "5")
		}
	}
	c.Set(ctxError, error(de))
	c.Set(ctxStatus, status)
	writeJSONError(c.Writer, requestIDOf(c), status, de, details)
	c.Abort()
}

func writeError(w http.ResponseWriter, rid string, err error) {
	de, details := asDomainError(err)
	writeJSONError(w, rid, statusOf(de.Code), de, details)
}

// writeErrorStatus writes an error of a status no error code maps to;
// its code is the status text in the codes' spelling, e.g.
// "method_not_allowed".
func writeErrorStatus(w http.ResponseWriter, rid string, status int, msg string) {
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	writeJSONError(w, rid, status, &statements.Error{Code: code, Message: msg}, nil)
}

func writeJSONError(w http.ResponseWriter, rid string, status int, de *statements.Error, details []string) {
	msg := de.Message
	if de.Code == statements.EInternal {
		msg = "internal error; quote the request id to the operator"
	}
	b, _ := json.Marshal(errorBody{Error: de.Code, Message: msg, Details: details, RequestID: rid})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
