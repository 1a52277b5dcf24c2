//go:build !race

package e2e

// daemonsRideOutages: without the race detector a daemon stays up while
// its cluster is down and must reconnect by itself (see
// outage_race_test.go for why -race runs restart it instead).
const daemonsRideOutages = true
