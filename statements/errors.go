package statements

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to exactly one status code.
const (
	EInvalid            = "invalid"             // the request or data breaks a rule (400)
	EUnauthorized       = "unauthorized"        // no or bad credential (401)
	EForbidden          = "forbidden"           // credential lacks the scope (403)
	ENotFound           = "not_found"           // no such resource (404)
	EConflict           = "conflict"            // state of the store contradicts the request (409)
	EPreconditionFailed = "precondition_failed" // a precondition header did not hold (412)
	ETooLarge           = "too_large"           // the request body is over a limit (413)
	ETooMany            = "too_many_requests"   // over a rate or attempt limit; retry later (429)
	EInternal           = "internal"            // a fault of the LRS or its store (500)
	EUnavailable        = "unavailable"         // cannot serve it now, e.g. the store cannot write; retry later (503)
)

// Error is the one error type of the LRS. Message is safe to show a client.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps a cause as an internal error whose client message is msg.
func Internal(err error, msg string) *Error {
	return &Error{Code: EInternal, Message: msg, Err: err}
}

// ErrorCode returns the code of err: its *Error code, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
