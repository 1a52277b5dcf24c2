package testbed

import (
	"fmt"
	"sort"
	"strings"
)

// brokerConfig is the standalone broker's configuration file for one
// cluster. Every key not set here keeps Pulsar's default, so that the
// suites see a default broker; each one set says why.
func brokerConfig(c *Cluster, o Options) string {
	settings := map[string]string{
		"clusterName":       c.Name,
		"brokerServicePort": fmt.Sprint(c.brokerPort),
		"webServicePort":    fmt.Sprint(c.webPort),
		"bindAddress":       "127.0.0.1",
		"advertisedAddress": "127.0.0.1",
		// One bookie: every ledger on it alone.
		"managedLedgerDefaultEnsembleSize": "1",
		"managedLedgerDefaultWriteQuorum":  "1",
		"managedLedgerDefaultAckQuorum":    "1",
		// The in-process bookie reads this file too. Only with ephemeral
		// ports allowed does it listen on --bookkeeper-port (BKCluster);
		// otherwise it takes a new port at every start, and after a restart
		// the old registration, which the RocksDB metadata store keeps,
		// names a dead bookie: "Not enough non-faulty bookies available".
		"allowEphemeralPorts": "true",
		// The broker's BookKeeper client quarantines a bookie for 30
		// minutes after a few failed or slow writes in a minute; a
		// restarted broker on a busy 2-core machine got there, and with
		// one bookie every write then fails ("Not enough non-faulty bookies
		// available") for the rest of the run.
		"bookkeeperClientHealthCheckEnabled": "false",
		// PIP-33, so that the brokers' own replicated subscriptions can be
		// measured beside subsync.
		"enableReplicatedSubscriptions":                  "true",
		"replicatedSubscriptionsSnapshotFrequencyMillis": "1000",
		// Tests leave topics idle between phases; the broker must not
		// delete them meanwhile.
		"brokerDeleteInactiveTopicsEnabled": "false",
		// Small ledgers so that a few dozen messages cross ledger
		// boundaries; rollover is otherwise held back for 10 minutes.
		"managedLedgerMaxEntriesPerLedger":          fmt.Sprint(o.LedgerMaxEntries),
		"managedLedgerMinLedgerRolloverTimeMinutes": "0",
		// Test clean-up deletes whole namespaces.
		"forceDeleteNamespaceAllowed": "true",
		"forceDeleteTenantAllowed":    "true",
		// Loopback only: nothing here needs them.
		"functionsWorkerEnabled":  "false",
		"webSocketServiceEnabled": "false",
		// A killed cluster restarts quickly on its data.
		"brokerShutdownTimeoutMs": "3000",
	}
	for k, v := range o.BrokerSettings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by subsync's test bed for cluster " + c.Name + ".\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, settings[k])
	}
	return b.String()
}
