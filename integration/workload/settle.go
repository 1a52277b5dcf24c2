package workload

import (
	"context"
	"fmt"
	"time"
)

// WaitCursorSettled waits until a subscription's cursor on e has not
// changed for quiet, and at least minWait has passed: a sync mechanism
// that moves the cursor in steps (PIP-33's snapshots) has then most likely
// made its last step. It returns an error only when ctx ends first.
func WaitCursorSettled(ctx context.Context, e *Endpoint, topic, sub string, minWait, quiet time.Duration) error {
	const poll = 50 * time.Millisecond
	start := time.Now()
	last, since := "", time.Now()
	for {
		state, err := CursorState(ctx, e, topic, sub)
		switch {
		case err != nil:
			last, since = "", time.Now()
		case state != last:
			last, since = state, time.Now()
		case time.Since(start) >= minWait && time.Since(since) >= quiet:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cursor %s of %s on %s still changing (last: %q, error: %v): %w",
				sub, topic, e.Name, last, err, context.Cause(ctx))
		case <-time.After(poll):
		}
	}
}
