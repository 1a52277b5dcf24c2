package admin

import "testing"

func TestStatsSumFollowsTopicStatsImplAdd(t *testing.T) {
	sum := newStatsSum()
	sum.add(TopicStats{
		MsgRateIn: 10, AverageMsgSize: 100, StorageSize: 5, EarliestMsgPublishTime: 77, DeduplicationStatus: "Enabled",
		Publishers: []PublisherStats{{ProducerName: "p-0", MsgRateIn: 10, MsgThroughputIn: 1000}},
		Subscriptions: map[string]SubscriptionStats{"s": {
			MsgBacklog: 3, Type: "Shared", IsDurable: true,
			Consumers: []ConsumerStats{{ConsumerName: "c", UnackedMessages: 1, AvailablePermits: 10}},
		}},
	})
	sum.add(TopicStats{
		MsgRateIn: 30, AverageMsgSize: 300, StorageSize: 7,
		Publishers: []PublisherStats{{ProducerName: "p-1", MsgRateIn: 30, MsgThroughputIn: 9000}, {ProducerName: "q"}},
		Subscriptions: map[string]SubscriptionStats{"s": {
			MsgBacklog: 4, Type: "Failover", IsReplicated: true,
			Consumers: []ConsumerStats{{ConsumerName: "c2", UnackedMessages: 2, AvailablePermits: 5}},
		}},
	})
	got := sum.TopicStats
	if got.MsgRateIn != 40 || got.StorageSize != 12 {
		t.Fatalf("rates/sizes not summed: %+v", got)
	}
	if got.AverageMsgSize != 200 { // mean of the partitions' averages, not bytes/msgs
		t.Fatalf("averageMsgSize = %v, want 200", got.AverageMsgSize)
	}
	if got.EarliestMsgPublishTime != 0 || got.DeduplicationStatus != "" {
		t.Fatalf("non-aggregated fields leaked: earliest %d dedup %q", got.EarliestMsgPublishTime, got.DeduplicationStatus)
	}
	if len(got.Publishers) != 2 || got.Publishers[0].ProducerName != "p-0" || got.Publishers[0].MsgRateIn != 40 {
		t.Fatalf("publishers merged by index: %+v", got.Publishers)
	}
	if got.Publishers[0].AverageMsgSize != 250 {
		t.Fatalf("publisher 0 average = %v, want 10000/40", got.Publishers[0].AverageMsgSize)
	}
	s := got.Subscriptions["s"]
	if s.MsgBacklog != 7 || s.Type != "Failover" || !s.IsDurable || !s.IsReplicated {
		t.Fatalf("subscription sum = %+v", s)
	}
	if len(s.Consumers) != 1 || s.Consumers[0].UnackedMessages != 3 || s.Consumers[0].AvailablePermits != 15 {
		t.Fatalf("consumers merged by index: %+v", s.Consumers)
	}
}
