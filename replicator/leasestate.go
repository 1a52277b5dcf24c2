package replicator

import "time"

// leaseState decides, from what is known of one namespace's lease, whether
// this daemon acts for the namespace. It is pure: the caller feeds it the
// lease's events with their times and asks acting(now).
//
// The lease is an Exclusive subscription: the broker lets one consumer
// hold it. Holding it is not enough to act at once, because the previous
// holder may not have noticed yet that it lost it (its connection dropped
// and the broker gave the subscription away). A holder that can no longer
// confirm it holds the lease stops acting after ttl; a new holder waits
// grace before acting. With grace longer than ttl plus one confirmation
// round, the old holder has stopped before the new one starts.
type leaseState struct {
	grace, ttl time.Duration

	held bool
	// since is when the current unbroken run of confirmations began (the
	// acquisition, or the first confirmation after a gap longer than ttl).
	since time.Time
	// confirmed is when the last confirmation's check started: what the
	// broker answered was true at some point after it.
	confirmed time.Time
}

// acquired: this daemon's consumer just subscribed to the lease.
func (s *leaseState) acquired(at time.Time) {
	s.held, s.since, s.confirmed = true, at, at
}

// confirm: the broker lists this daemon's consumer as the lease's holder,
// as of a check started at at. After a gap longer than ttl another daemon
// may have held and used the lease meanwhile (the client reconnects by
// itself), so the wait for grace starts over.
func (s *leaseState) confirm(at time.Time) {
	if !s.held {
		return
	}
	if at.Sub(s.confirmed) > s.ttl {
		s.since = at
	}
	if at.After(s.confirmed) {
		s.confirmed = at
	}
}

// lost: the broker lists another consumer as the holder, or this daemon
// released its consumer.
func (s *leaseState) lost() { s.held = false }

// holding reports whether this daemon's consumer is believed to hold the
// lease (it may not act yet).
func (s *leaseState) holding() bool { return s.held }

// acting reports whether the daemon may act for the namespace at now.
func (s *leaseState) acting(now time.Time) bool {
	return s.held && now.Sub(s.confirmed) <= s.ttl && s.confirmed.Sub(s.since) >= s.grace
}
