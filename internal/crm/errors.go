// Package crm holds Custos's domain: record types, enums, validation rules and
// the one error vocabulary every layer speaks. It imports only the standard
// library, so every other package can depend on it.
package crm

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error for the surfaces: each code maps to one HTTP status
// and one user-facing sentence.
type Code string

// The error codes. Surfaces translate them; services choose them.
const (
	Invalid         Code = "invalid"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	Duplicate       Code = "duplicate"
	Forbidden       Code = "forbidden"
	Unauthenticated Code = "unauthenticated"
	RateLimited     Code = "rate_limited"
	Unavailable     Code = "unavailable"
	Internal        Code = "internal"
	// Pending is not a failure: the change needs approval, was filed as the
	// approval request Ref, and applies only once approved.
	Pending Code = "pending_approval"
	// StepUpRequired refuses a risky operation until the actor confirms it
	// with a second factor verified in the last few minutes (HTTP 403).
	StepUpRequired Code = "step_up_required"
	// TooLarge refuses a request body over the surface's limit (HTTP 413):
	// nothing of it was read into a record.
	TooLarge Code = "too_large"
	// UnsupportedMediaType refuses a body sent as something other than
	// what the surface reads, e.g. JSON declared in a charset other than
	// UTF-8 (HTTP 415), rather than guessing and storing garbled text.
	UnsupportedMediaType Code = "unsupported_media_type"
)

// FieldError says which field was rejected and why. Rule is a short key
// ("required", "too_long", "format", "enum", ...) that the surfaces translate;
// Param carries the rule's parameter (a maximum length, an owner's name).
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
	Param string `json:"param,omitempty"`
	// ParamEn is Param for English readers when it names something with
	// a name of its own in each language (a stage: 方案报价, Proposal).
	ParamEn string `json:"-"`
	// LabelKey, Label and LabelEn name the field for people when the
	// catalog's label for Field would be wrong or missing: LabelKey is a
	// catalog key (a task's "title" is not a contact's job title), Label and
	// LabelEn a custom field's own labels. Clients go by Field; these never
	// leave the server as data.
	LabelKey string `json:"-"`
	Label    string `json:"-"`
	LabelEn  string `json:"-"`
}

// Error is the error type of the domain and the services. Message is an
// English sentence for logs and for clients that do not translate; the
// surfaces build the user's sentence from Code, Key and Fields.
type Error struct {
	Code    Code
	Key     string // optional message key for translation, e.g. "stale_version"
	Message string
	Fields  []FieldError
	Ref     int64 // the record the error refers to, e.g. the approval request filed
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Rule
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, ", "))
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is the one "not there" answer. A record outside the actor's
// scope gets exactly this error too, so a denial reveals nothing.
func ErrNotFound(object string) *Error {
	return &Error{Code: NotFound, Key: "not_found", Message: object + " not found"}
}

// ErrStale is returned when an update carries an old version: someone else
// changed the record first, and nothing was overwritten.
func ErrStale() *Error {
	return &Error{Code: Conflict, Key: "stale_version", Message: "the record was changed by someone else; reload and apply your change again"}
}

// ErrForbidden is returned when the actor lacks the function permission.
func ErrForbidden() *Error {
	return &Error{Code: Forbidden, Key: "forbidden", Message: "you do not have permission to do this"}
}

// ErrorCode returns the Code of err, Internal for any error that is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// Problems collects field errors during validation.
type Problems []FieldError

// Add records one rejected field.
func (p *Problems) Add(field, rule string, param ...string) {
	fe := FieldError{Field: field, Rule: rule}
	if len(param) > 0 {
		fe.Param = param[0]
	}
	*p = append(*p, fe)
}

// LabelAs names field's problems by the catalog key label, for a field
// whose usual label means something else (a task's "title" is not a
// contact's job title).
func (p Problems) LabelAs(field, label string) {
	for i := range p {
		if p[i].Field == field {
			p[i].LabelKey = label
		}
	}
}

// Err returns an Invalid *Error listing the problems, or nil when there are none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Key: "invalid", Message: "some fields are not valid", Fields: p}
}
