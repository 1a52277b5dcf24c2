// Package testbed runs real Apache Pulsar clusters for subsync's tests:
// two or three standalone brokers from Maven Central on loopback, each with
// its own ports, data directories, RocksDB metadata store and in-process
// bookie, wired to one another for geo-replication as Pulsar's docs
// describe for clusters with separate configuration stores.
//
// It owns the brokers' processes and their faults, done for real: Kill
// (SIGKILL the JVM), Restart (a new JVM on the same data, once the dead
// JVM's ephemeral metadata nodes are expired, as ZooKeeper would expire
// its session), Pause and Resume
// (SIGSTOP and SIGCONT, which pause the cluster and its replication). A
// running Bed can serve those faults over HTTP (Handler), so that tests in
// another process — `go test` started by `testbed exec` — can use them.
//
// It must not know anything about subsync: it is Pulsar and nothing else,
// so that what the suites observe on it is Pulsar's behaviour.
package testbed
