package snapshot

import "strconv"

// Verdict is the receiver's decision on one incoming Update.
type Verdict uint8

// Verdicts.
const (
	// Apply: the update follows what was applied (or is a newer full
	// state); apply it, then call Sequencer.Applied.
	Apply Verdict = iota + 1
	// Stale: a duplicate or an update older than what was applied,
	// including any update from an earlier sender epoch. Ignore it.
	Stale
	// Gap: a delta whose predecessor was not applied (lost, skipped after
	// an earlier gap, or never seen since a restart of either side). It
	// must not be applied; the next full state restores sync.
	Gap
)

// String names the verdict for logs and metric labels.
func (v Verdict) String() string {
	switch v {
	case Apply:
		return "apply"
	case Stale:
		return "stale"
	case Gap:
		return "gap"
	}
	return "verdict_" + strconv.Itoa(int(v))
}

// StreamKey identifies one sender's stream of updates for one subscription.
type StreamKey struct {
	Topic        string
	Subscription string
	Sender       string
}

// KeyOf returns the stream an update belongs to.
func KeyOf(u *Update) StreamKey {
	return StreamKey{Topic: u.Topic, Subscription: u.Subscription, Sender: u.Sender}
}

// Applied identifies the last update applied on a stream.
type Applied struct {
	Epoch    int64
	Sequence uint64
}

// Sequencer remembers, per stream, the last applied update and classifies
// incoming ones. It is not safe for concurrent use.
type Sequencer struct {
	last map[StreamKey]Applied
}

// NewSequencer returns a Sequencer that has applied nothing.
func NewSequencer() *Sequencer {
	return &Sequencer{last: make(map[StreamKey]Applied)}
}

// Classify decides what to do with u without changing any state, so a
// caller whose apply fails simply does not call Applied.
func (s *Sequencer) Classify(u *Update) Verdict {
	last, ok := s.last[KeyOf(u)]
	switch {
	case !ok:
		return firstOfStream(u)
	case u.Epoch < last.Epoch:
		return Stale
	case u.Epoch > last.Epoch:
		return firstOfStream(u)
	case u.Sequence <= last.Sequence:
		return Stale
	case u.Full || u.Sequence == last.Sequence+1:
		return Apply
	}
	return Gap
}

// firstOfStream: with no baseline in this epoch, only a full state applies.
func firstOfStream(u *Update) Verdict {
	if u.Full {
		return Apply
	}
	return Gap
}

// Applied records that u was applied, after a successful apply of an
// update Classify called Apply. It records nothing, and returns false, for
// an update Classify would not call Apply, so a misuse cannot move a
// stream backwards.
func (s *Sequencer) Applied(u *Update) bool {
	if s.Classify(u) != Apply {
		return false
	}
	s.last[KeyOf(u)] = Applied{Epoch: u.Epoch, Sequence: u.Sequence}
	return true
}

// Last returns the last update applied on k, if any.
func (s *Sequencer) Last(k StreamKey) (Applied, bool) {
	a, ok := s.last[k]
	return a, ok
}

// Restore sets the last applied update of k, e.g. from persisted state at
// start-up.
func (s *Sequencer) Restore(k StreamKey, a Applied) { s.last[k] = a }

// Forget drops k, e.g. when its subscription is deleted.
func (s *Sequencer) Forget(k StreamKey) { delete(s.last, k) }
