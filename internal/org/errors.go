package org

import (
	"errors"
	"fmt"
)

// AWS exception names of the WorkMail API (botocore workmail/2017-10-01).
const (
	CodeInvalidParameter     = "InvalidParameterException"
	CodeOrganizationNotFound = "OrganizationNotFoundException"
	CodeOrganizationState    = "OrganizationStateException"
	CodeEntityNotFound       = "EntityNotFoundException"
	CodeEntityState          = "EntityStateException"
	CodeNameAvailability     = "NameAvailabilityException"
	CodeEmailAddressInUse    = "EmailAddressInUseException"
	CodeDirectoryUnavailable = "DirectoryUnavailableException"
	CodeInvalidPassword      = "InvalidPasswordException"
	CodeLimitExceeded        = "LimitExceededException"
	CodeResourceNotFound     = "ResourceNotFoundException"
	CodeUnsupportedOperation = "UnsupportedOperationException"
	CodeMailDomainNotFound   = "MailDomainNotFoundException"
)

// Error is a WorkMail API error. Code is the AWS exception name that goes in
// the JSON error's __type; Message is the human text. All of them are client
// errors (HTTP 400).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, ErrX) match on the code alone, so sentinels work
// for errors that carry a specific message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidParameter     = &Error{Code: CodeInvalidParameter}
	ErrOrganizationNotFound = &Error{Code: CodeOrganizationNotFound}
	ErrEntityNotFound       = &Error{Code: CodeEntityNotFound}
	ErrEntityState          = &Error{Code: CodeEntityState}
	ErrNameAvailability     = &Error{Code: CodeNameAvailability}
	ErrEmailAddressInUse    = &Error{Code: CodeEmailAddressInUse}
	ErrDirectoryUnavailable = &Error{Code: CodeDirectoryUnavailable}
	ErrLimitExceeded        = &Error{Code: CodeLimitExceeded}
	ErrResourceNotFound     = &Error{Code: CodeResourceNotFound}
)

// Errorf builds an *Error with a formatted message. Exported so sibling
// packages (internal/access) report errors in the same type.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation builds the InvalidParameterException AWS sends for a constraint
// violation, naming the member and the constraint.
func Validation(value any, member, constraint string) *Error {
	return Errorf(CodeInvalidParameter,
		"1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s",
		value, member, constraint)
}

// Code returns the AWS exception name of err, or "" when err is not an API
// error (an internal failure the caller should report as a 500).
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
