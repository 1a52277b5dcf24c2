package admin

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an admin failure with the HTTP status Pulsar answers and the
// reason it puts in the JSON body ({"reason": "..."}). Metadata and Backend
// implementations return it (possibly wrapped) so the server can answer with
// Pulsar's status; any other error becomes 500.
type Error struct {
	Code   int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

// Is lets errors.Is(err, ErrTopicNotFound) match any *Error with the same
// code and reason, so wrapped copies still compare equal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Reason == e.Reason
}

// Errorf builds an *Error with a formatted reason.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Reasons as Pulsar's broker words them (PersistentTopicsBase, NamespacesBase,
// TenantsBase, ClustersBase). Backends should return these rather than
// inventing their own, so clients matching on them behave as with Pulsar.
var (
	ErrTopicNotFound            = &Error{http.StatusNotFound, "Topic not found"}
	ErrPartitionedTopicNotFound = &Error{http.StatusNotFound, "Partitioned Topic not found"}
	ErrSubscriptionNotFound     = &Error{http.StatusNotFound, "Subscription not found"}
	ErrMessageNotFound          = &Error{http.StatusNotFound, "Message not found"}
	ErrTopicExists              = &Error{http.StatusConflict, "This topic already exists"}
	ErrPartitionedTopicExists   = &Error{http.StatusConflict, "Partitioned topic already exists"}
	ErrSubscriptionExists       = &Error{http.StatusConflict, "Subscription already exists for topic"}
	// ErrSubscriptionBusy: non-forced delete of a subscription with consumers.
	// The three *NotFound values are sentinels: the server rewrites them
	// into Pulsar's wording with the topic and subscription names.
	ErrSubscriptionBusy = &Error{http.StatusPreconditionFailed, "Subscription has active connected consumers"}
	// ErrTopicBusy: non-forced delete of a topic with producers or consumers.
	ErrTopicBusy = &Error{http.StatusPreconditionFailed, "Topic has active producers/subscriptions"}
	// ErrNotSupported: a Pulsar feature the emulator does not implement.
	ErrNotSupported = &Error{http.StatusNotImplemented, "Not supported by the emulator"}
)

// describe turns a backend's generic not-found sentinel into the reason
// Pulsar's broker words with the names filled in (AdminResource
// .getTopicNotFoundErrorMessage and friends): "Topic <t> not found",
// "Partitioned Topic <t> not found", "Subscription <s> not found for topic
// <t>". Other *Error values pass unchanged; anything else is wrapped with
// the operation for context and becomes a 500.
func describe(err error, op, topic, sub string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTopicNotFound):
		return Errorf(http.StatusNotFound, "Topic %s not found", topic)
	case errors.Is(err, ErrPartitionedTopicNotFound):
		return Errorf(http.StatusNotFound, "Partitioned Topic %s not found", topic)
	case errors.Is(err, ErrSubscriptionNotFound):
		return Errorf(http.StatusNotFound, "Subscription %s not found for topic %s", sub, topic)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("%s %s: %w", op, topic, err)
}

// statusOf maps any error to the status and reason the server answers with.
func statusOf(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Reason
	}
	return http.StatusInternalServerError, err.Error()
}
