// Package scale measures the subsync daemon's footprint while it syncs
// many topics: the daemon runs in a child process (this test binary
// re-executed) so its CPU time and resident memory are its own, against
// the emulator running in the parent.
//
// It owns only measurement; it must not change how the daemon works.
package scale
