package replicator

import (
	"context"
	"strings"
	"time"

	"github.com/subsync/subsync/snapshot"
)

// leaseLoop keeps one namespace's lease and starts or stops the
// namespace's work as the lease state says, until ctx ends. Its work is
// stopped before the lease is given up, so another daemon never acts
// while this one still does.
func (d *Daemon) leaseLoop(ctx context.Context, ns string) {
	l := d.newLease(ns)
	tick := time.NewTicker(d.cfg.LeaseInterval)
	defer tick.Stop()
	for {
		l.step(ctx)
		now := d.now()
		d.health.lease(ns, &l.state, now)
		d.setActing(ctx, ns, l.state.acting(now), l.state.holding())
		select {
		case <-ctx.Done():
			d.setActing(ctx, ns, false, false)
			l.release()
			return
		case <-tick.C:
		}
	}
}

// setActing starts or stops the namespace's work on a change, and says so
// in the log and the lease gauge.
func (d *Daemon) setActing(ctx context.Context, ns string, act, holding bool) {
	was := d.workOf(ns) != nil
	switch {
	case act && !was && ctx.Err() == nil:
		work := d.startNamespace(ctx, ns)
		d.metrics.LeaseHeld.WithLabelValues(d.cfg.Cluster, ns).Set(1)
		d.log.Info("acting for the namespace: this daemon holds the cluster's lease", "namespace", ns, "epoch", work.epoch)
		// Not waiting for the next discovery tick makes takeover as fast
		// as the lease allows.
		if err := d.discoverNamespace(work, ns); err != nil && work.ctx.Err() == nil {
			d.log.Warn("discovery incomplete", "namespace", ns, "err", err)
		}
	case !act && was:
		d.metrics.LeaseHeld.WithLabelValues(d.cfg.Cluster, ns).Set(0)
		if ctx.Err() != nil {
			d.log.Info("shutting down: no longer acting for the namespace", "namespace", ns)
		} else {
			d.log.Warn("stopped acting for the namespace: the lease is lost or cannot be confirmed", "namespace", ns, "stillHoldsLease", holding)
		}
		d.stopNamespace(ns)
	}
}

// startNamespace opens a period of acting for ns, with an epoch newer than
// any this daemon used before.
func (d *Daemon) startNamespace(ctx context.Context, ns string) *nsWork {
	wctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastEpoch = snapshot.NextEpoch(d.lastEpoch, d.now().UnixMilli())
	work := &nsWork{ctx: wctx, cancel: cancel, epoch: d.lastEpoch}
	d.acting[ns] = work
	return work
}

// stopNamespace ends the namespace's period of acting: nothing new starts
// (it is no longer in acting), its loops finish their last flush, then its
// control channel closes and its workers are forgotten, so a later period
// starts them afresh from the store.
func (d *Daemon) stopNamespace(ns string) {
	d.mu.Lock()
	work := d.acting[ns]
	delete(d.acting, ns)
	d.mu.Unlock()
	if work == nil {
		return
	}
	work.cancel()
	work.wg.Wait()
	d.mu.Lock()
	for topic := range d.workers {
		if strings.HasPrefix(topic, "persistent://"+ns+"/") {
			delete(d.workers, topic)
		}
	}
	cc := work.control
	d.mu.Unlock()
	if cc != nil {
		closeWithin(closeTimeout, cc.close)
	}
}
