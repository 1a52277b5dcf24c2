package admin

// PartitionedTopicStats is Pulsar's PartitionedTopicStats JSON: the sum over
// partitions (TopicStatsImpl.add) plus the metadata and, when asked
// (perPartition, default true as in Pulsar), each partition's own stats.
type PartitionedTopicStats struct {
	TopicStats
	Metadata   partitionsBody        `json:"metadata"`
	Partitions map[string]TopicStats `json:"partitions"`
}

type partitionsBody struct {
	Partitions int `json:"partitions"`
}

func (s *Server) partitionedStats(q *request, t topicRef) error {
	perPartition := true
	if q.r.URL.Query().Get("perPartition") != "" {
		v, err := q.boolQuery("perPartition")
		if err != nil {
			return err
		}
		perPartition = v
	}
	topics, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	if !partitioned {
		return describe(ErrPartitionedTopicNotFound, "partitioned stats", t.name, "")
	}
	sum := newStatsSum()
	out := PartitionedTopicStats{Metadata: partitionsBody{len(topics)}, Partitions: map[string]TopicStats{}}
	for _, name := range topics {
		st, err := s.backend.TopicStats(name)
		if err != nil {
			return describe(err, "stats", name, "")
		}
		st = normaliseStats(st)
		sum.add(st)
		if perPartition {
			out.Partitions[name] = st
		}
	}
	out.TopicStats = normaliseSubscriptions(sum.TopicStats)
	return q.ok(out)
}

// normaliseStats completes one topic's stats: a deduplication status, and
// the empty JSON values Pulsar prints ({} and []) where the backend left nil.
func normaliseStats(st TopicStats) TopicStats {
	if st.DeduplicationStatus == "" {
		st.DeduplicationStatus = "Disabled"
	}
	return normaliseSubscriptions(st)
}

// normaliseSubscriptions replaces nil maps and slices by empty ones, so
// clients never meet null. It copies the subscriptions map: the backend's
// may be shared.
func normaliseSubscriptions(st TopicStats) TopicStats {
	if st.Publishers == nil {
		st.Publishers = []PublisherStats{}
	}
	if st.Subscriptions == nil {
		st.Subscriptions = map[string]SubscriptionStats{}
	}
	if st.Replication == nil {
		st.Replication = map[string]ReplicatorStats{}
	}
	subs := make(map[string]SubscriptionStats, len(st.Subscriptions))
	for name, sub := range st.Subscriptions {
		if sub.Consumers == nil {
			sub.Consumers = []ConsumerStats{}
		}
		if sub.ConsumersAfterMarkDeletePosition == nil {
			sub.ConsumersAfterMarkDeletePosition = map[string]string{}
		}
		if sub.SubscriptionProperties == nil {
			sub.SubscriptionProperties = map[string]string{}
		}
		subs[name] = sub
	}
	st.Subscriptions = subs
	return st
}

// statsSum folds partition stats into a partitioned topic's total the way
// TopicStatsImpl.add does, quirks included so numbers match a real broker:
// averageMsgSize is the mean of the partitions' averages; publishers and
// consumers are merged by list index; when the running map of
// subscriptions (or replicators) differs in size from a partition's, the
// partition's entries replace the running ones instead of adding to them;
// per-topic timestamps, earliestMsgPublishTimeInBacklogs and
// deduplicationStatus are not aggregated.
type statsSum struct {
	TopicStats
	count int
}

func newStatsSum() *statsSum {
	return &statsSum{TopicStats: TopicStats{
		Publishers:    []PublisherStats{},
		Subscriptions: map[string]SubscriptionStats{},
		Replication:   map[string]ReplicatorStats{},
	}}
}

func (sum *statsSum) add(st TopicStats) {
	sum.count++
	sum.MsgRateIn += st.MsgRateIn
	sum.MsgThroughputIn += st.MsgThroughputIn
	sum.MsgRateOut += st.MsgRateOut
	sum.MsgThroughputOut += st.MsgThroughputOut
	sum.BytesInCounter += st.BytesInCounter
	sum.MsgInCounter += st.MsgInCounter
	sum.BytesOutCounter += st.BytesOutCounter
	sum.MsgOutCounter += st.MsgOutCounter
	sum.WaitingPublishers += st.WaitingPublishers
	sum.AverageMsgSize = (sum.AverageMsgSize*float64(sum.count-1) + st.AverageMsgSize) / float64(sum.count)
	sum.StorageSize += st.StorageSize
	sum.BacklogSize += st.BacklogSize
	sum.OffloadedStorageSize += st.OffloadedStorageSize
	sum.NonContiguousRanges += st.NonContiguousRanges
	sum.NonContiguousRangesSz += st.NonContiguousRangesSz
	for i, p := range st.Publishers {
		if i == len(sum.Publishers) {
			sum.Publishers = append(sum.Publishers, PublisherStats{})
		}
		sum.Publishers[i] = addPublisherStats(sum.Publishers[i], p)
	}
	replace := len(sum.Subscriptions) != len(st.Subscriptions)
	for name, sub := range st.Subscriptions {
		base, ok := sum.Subscriptions[name]
		if replace || !ok {
			base = SubscriptionStats{}
		}
		sum.Subscriptions[name] = addSubscriptionStats(base, sub)
	}
	replace = len(sum.Replication) != len(st.Replication)
	for name, r := range st.Replication {
		base, ok := sum.Replication[name]
		if replace || !ok {
			base = ReplicatorStats{Connected: true}
		}
		sum.Replication[name] = addReplicatorStats(base, r)
	}
}

// addPublisherStats sums one publisher into its index slot; identity fields
// come from the first partition that has a publisher at that index.
func addPublisherStats(sum, p PublisherStats) PublisherStats {
	if sum.ProducerName == "" && sum.Address == "" {
		sum.AccessMode, sum.ProducerID, sum.ProducerName = p.AccessMode, p.ProducerID, p.ProducerName
		sum.Address, sum.ConnectedSince, sum.ClientVersion, sum.Metadata = p.Address, p.ConnectedSince, p.ClientVersion, p.Metadata
	}
	sum.MsgRateIn += p.MsgRateIn
	sum.MsgThroughputIn += p.MsgThroughputIn
	sum.AverageMsgSize = averageMsgSize(sum.MsgThroughputIn, sum.MsgRateIn)
	return sum
}

// addSubscriptionStats is SubscriptionStatsImpl.add.
func addSubscriptionStats(sum, st SubscriptionStats) SubscriptionStats {
	sum.MsgRateOut += st.MsgRateOut
	sum.MsgThroughputOut += st.MsgThroughputOut
	sum.BytesOutCounter += st.BytesOutCounter
	sum.MsgOutCounter += st.MsgOutCounter
	sum.MsgRateRedeliver += st.MsgRateRedeliver
	sum.MessageAckRate += st.MessageAckRate
	sum.MsgBacklog += st.MsgBacklog
	sum.BacklogSize += st.BacklogSize
	sum.MsgBacklogNoDelayed += st.MsgBacklogNoDelayed
	sum.MsgDelayed += st.MsgDelayed
	sum.UnackedMessages += st.UnackedMessages
	sum.Type = st.Type
	sum.MsgRateExpired += st.MsgRateExpired
	sum.TotalMsgExpired += st.TotalMsgExpired
	sum.IsReplicated = sum.IsReplicated || st.IsReplicated
	sum.IsDurable = sum.IsDurable || st.IsDurable
	if len(sum.Consumers) != len(st.Consumers) {
		sum.Consumers = append(sum.Consumers, st.Consumers...)
	} else {
		for i, c := range st.Consumers {
			sum.Consumers[i] = addConsumerStats(sum.Consumers[i], c)
		}
	}
	sum.AllowOutOfOrderDelivery = sum.AllowOutOfOrderDelivery || st.AllowOutOfOrderDelivery
	sum.ConsumersAfterMarkDeletePosition = mergeStrings(sum.ConsumersAfterMarkDeletePosition, st.ConsumersAfterMarkDeletePosition)
	sum.NonContiguousRanges += st.NonContiguousRanges
	sum.NonContiguousRangesSz += st.NonContiguousRangesSz
	sum.SubscriptionProperties = mergeStrings(sum.SubscriptionProperties, st.SubscriptionProperties)
	return sum
}

// addConsumerStats sums the counters of the consumers at one list index.
func addConsumerStats(sum, c ConsumerStats) ConsumerStats {
	sum.MsgRateOut += c.MsgRateOut
	sum.MsgThroughputOut += c.MsgThroughputOut
	sum.BytesOutCounter += c.BytesOutCounter
	sum.MsgOutCounter += c.MsgOutCounter
	sum.MsgRateRedeliver += c.MsgRateRedeliver
	sum.MessageAckRate += c.MessageAckRate
	sum.AvailablePermits += c.AvailablePermits
	sum.UnackedMessages += c.UnackedMessages
	sum.BlockedConsumerOnUnackedMsgs = sum.BlockedConsumerOnUnackedMsgs || c.BlockedConsumerOnUnackedMsgs
	return sum
}

// addReplicatorStats is ReplicatorStatsImpl.add: counters add up, the link
// is connected only when every partition's replicator is.
func addReplicatorStats(sum, st ReplicatorStats) ReplicatorStats {
	sum.MsgRateIn += st.MsgRateIn
	sum.MsgThroughputIn += st.MsgThroughputIn
	sum.MsgRateOut += st.MsgRateOut
	sum.MsgThroughputOut += st.MsgThroughputOut
	sum.MsgInCount += st.MsgInCount
	sum.BytesInCount += st.BytesInCount
	sum.MsgOutCount += st.MsgOutCount
	sum.BytesOutCount += st.BytesOutCount
	sum.MsgRateExpired += st.MsgRateExpired
	sum.ReplicationBacklog += st.ReplicationBacklog
	sum.ReplicationDelayInSeconds = max(sum.ReplicationDelayInSeconds, st.ReplicationDelayInSeconds)
	sum.Connected = sum.Connected && st.Connected
	return sum
}

func mergeStrings(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func averageMsgSize(throughput, rate float64) float64 {
	if rate == 0 {
		return 0
	}
	return throughput / rate
}
