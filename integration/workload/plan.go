package workload

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Plan decides, before anything runs, what the consumers on the primary do
// with each message, so a run is reproducible from its seed: messages are
// numbered 0..Messages-1 in production order; those below Cut are
// processed before the failover, the rest are left for the standby; among
// the processed ones, a seeded choice is held unacknowledged "for long"
// (never acknowledged before the failover: they pin PIP-33's mark-delete
// position) and every other one is acknowledged.
type Plan struct {
	Seed     int64
	Messages int
	// Cut is how many messages, in production order, are processed on
	// the primary before the failover.
	Cut int
	// Held lists the held ids in increasing order.
	Held []int
	held map[int]bool
}

// PlanOptions are NewPlan's inputs.
type PlanOptions struct {
	Seed     int64
	Messages int
	// FailoverAt is the fraction of the messages, in production order,
	// processed on the primary before it fails (0 < FailoverAt <= 1).
	FailoverAt float64
	// HoldFraction is the fraction of the processed messages held
	// unacknowledged (0 <= HoldFraction < 1).
	HoldFraction float64
}

// Validate names every bad field.
func (o PlanOptions) Validate() error {
	var errs []error
	if o.Messages < 1 || o.Messages > MaxMessages {
		errs = append(errs, fmt.Errorf("messages: %d, expected 1 to %d", o.Messages, MaxMessages))
	}
	if math.IsNaN(o.FailoverAt) || o.FailoverAt <= 0 || o.FailoverAt > 1 {
		errs = append(errs, fmt.Errorf("failoverAt: %v, expected a fraction in (0, 1]", o.FailoverAt))
	}
	if math.IsNaN(o.HoldFraction) || o.HoldFraction < 0 || o.HoldFraction >= 1 {
		errs = append(errs, fmt.Errorf("holdFraction: %v, expected a fraction in [0, 1)", o.HoldFraction))
	}
	return errors.Join(errs...)
}

// NewPlan draws the held messages from the seed.
func NewPlan(o PlanOptions) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cut := max(1, int(math.Round(o.FailoverAt*float64(o.Messages))))
	nHeld := int(math.Round(o.HoldFraction * float64(cut)))
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x686f6c64)) // "hold"
	p := &Plan{Seed: o.Seed, Messages: o.Messages, Cut: cut, held: sample(rng, cut, nHeld)}
	for id := range p.held {
		p.Held = append(p.Held, id)
	}
	slices.Sort(p.Held)
	return p, nil
}

// sample draws k distinct ints from [0, n) with Floyd's algorithm: memory
// in k, not n, and every k-subset equally likely.
func sample(rng *rand.Rand, n, k int) map[int]bool {
	out := make(map[int]bool, k)
	for j := n - k; j < n; j++ {
		t := rng.IntN(j + 1)
		if out[t] {
			t = j
		}
		out[t] = true
	}
	return out
}

// IsHeld reports whether id is received but never acknowledged on the
// primary.
func (p *Plan) IsHeld(id int) bool { return p.held[id] }

// ShouldAck reports whether id is acknowledged on the primary.
func (p *Plan) ShouldAck(id int) bool { return id >= 0 && id < p.Cut && !p.held[id] }

// AckCount is how many messages the primary acknowledges.
func (p *Plan) AckCount() int { return p.Cut - len(p.Held) }
