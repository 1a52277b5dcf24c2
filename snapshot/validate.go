package snapshot

import (
	"fmt"
	"unicode/utf8"

	"github.com/subsync/subsync/ackset"
)

// The validate methods hold the rules shared by Encode (refuse to send) and
// Decode (refuse to accept), so anything one side produces the other reads.

func validateName(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", field)
	case len(s) > MaxStringSize:
		return fmt.Errorf("%s is %d bytes, limit %d", field, len(s), MaxStringSize)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	return nil
}

// validatePosition applies ackset.ParsePosition's range: -1 means "before
// the first" and is the lowest value Pulsar prints.
func validatePosition(field string, p ackset.Position) error {
	if p.Ledger < -1 || p.Entry < -1 {
		return fmt.Errorf("%s %s: ledger and entry must be >= -1", field, p)
	}
	return nil
}

func validateNonNegative(field string, v int64) error {
	if v < 0 {
		return fmt.Errorf("%s is %d, expected >= 0", field, v)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *Anchor) validate(field string) error {
	return firstError(
		validatePosition(field+".local", a.Local),
		validateName(field+".producer_name", a.ProducerName),
		validateNonNegative(field+".publish_time", a.PublishTime),
		validateNonNegative(field+".count", a.Count),
	)
}

func (m *SnapshotRequest) validate() error {
	err := firstError(
		validateName("snapshot request id", m.ID),
		validateName("snapshot request topic", m.Topic),
		validateName("snapshot request requester", m.Requester),
		validatePosition("snapshot request requester_lac", m.RequesterLAC),
		validateNonNegative("snapshot request sent_at", m.SentAt),
	)
	if err != nil {
		return err
	}
	if len(m.Anchors) > MaxAnchors {
		return fmt.Errorf("snapshot request has %d anchors, limit %d", len(m.Anchors), MaxAnchors)
	}
	for i := range m.Anchors {
		if err := m.Anchors[i].validate(fmt.Sprintf("snapshot request anchors[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (m *SnapshotResponse) validate() error {
	err := firstError(
		validateName("snapshot response id", m.ID),
		validateName("snapshot response topic", m.Topic),
		validateName("snapshot response requester", m.Requester),
		validateName("snapshot response responder", m.Responder),
		validatePosition("snapshot response responder_lac", m.ResponderLAC),
		validateNonNegative("snapshot response sent_at", m.SentAt),
	)
	if err == nil && m.Watermark != nil {
		err = validatePosition("snapshot response watermark", *m.Watermark)
	}
	if err == nil && m.TailPosition != nil {
		err = validatePosition("snapshot response tail_position", *m.TailPosition)
	}
	return err
}

func (m *Update) validate() error {
	return firstError(
		validateName("update topic", m.Topic),
		validateName("update subscription", m.Subscription),
		validateName("update sender", m.Sender),
		validateNonNegative("update epoch", m.Epoch),
		validatePosition("update sender_mdp", m.SenderMDP),
		validateNonNegative("update sent_at", m.SentAt),
		validateNonNegative("update last_active", m.LastActive),
	)
}
