package admin

import (
	"math"
	"time"

	"github.com/subsync/subsync/integration/ledger"
)

// Topic names passed to a Backend are always complete and normalised:
// "persistent://tenant/ns/local", where local may end in "-partition-N" for
// one partition of a partitioned topic. Subscription names are decoded.
// The namespace has been checked to exist before any topic call.
//
// Errors should be (or wrap) an *Error, ideally one of the Err* values, so
// the server answers with Pulsar's status; anything else becomes a 500.
// Return the ErrTopicNotFound, ErrPartitionedTopicNotFound and
// ErrSubscriptionNotFound sentinels as they are: the server rewrites them
// into Pulsar's wording with the names filled in ("Topic <t> not found").

// Start positions for Backend.CreateSubscription, as Pulsar's admin API
// encodes them in a MessageId body (-1:-1 = earliest, MaxInt64 = latest).
var (
	Earliest = ledger.Position{Ledger: -1, Entry: -1}
	Latest   = ledger.Position{Ledger: math.MaxInt64, Entry: math.MaxInt64}
)

// Backend is the broker side of the admin API, implemented by package
// emulator. Every method must be goroutine-safe. The server handles
// partitioned topics itself: it fans calls out to "-partition-N" names and
// aggregates, so only CreatePartitionedTopic, DeletePartitionedTopic and
// PartitionedMetadata ever see a partitioned parent's name.
type Backend interface {
	// Topics lists the namespace's persistent topics that exist as managed
	// ledgers: non-partitioned topics and each partition
	// ("...-partition-N"), sorted. Not the partitioned parents.
	Topics(namespace string) ([]string, error)
	// PartitionedTopics lists the namespace's partitioned topics (parents).
	PartitionedTopics(namespace string) ([]string, error)

	// CreateTopic creates a non-partitioned topic or a missing partition
	// (ErrTopicExists if it or a partitioned topic of that name exists).
	// The server has already refused "x-partition-N" names that do not
	// belong to a partitioned topic x with more than N partitions.
	CreateTopic(topic string) error
	// CreatePartitionedTopic records the partitioned metadata and creates
	// the partitions (ErrPartitionedTopicExists / ErrTopicExists on clash).
	// The server has validated 0 < partitions <= 10000.
	CreatePartitionedTopic(topic string, partitions int) error
	// PartitionedMetadata returns the partition count; 0 for a
	// non-partitioned topic, a partition, or an unknown topic. (GET
	// .../partitions turns "0 and no ledger" into 404, as Pulsar does.)
	PartitionedMetadata(topic string) (int, error)
	// DeleteTopic deletes a non-partitioned topic or one partition. Without
	// force it fails with ErrTopicBusy while producers or consumers are
	// connected; with force it disconnects them.
	DeleteTopic(topic string, force bool) error
	// DeletePartitionedTopic deletes every partition and the metadata
	// (ErrPartitionedTopicNotFound if not partitioned).
	DeletePartitionedTopic(topic string, force bool) error

	// Ledger returns the topic's managed ledger (ErrTopicNotFound if the
	// topic is not loaded). The server only reads from it: internal stats,
	// last confirmed entry, entry batch sizes, first/next positions.
	Ledger(topic string) (*ledger.ManagedLedger, error)
	// TopicStats returns the topic's stats (ErrTopicNotFound). Nil maps and
	// slices are fine: the server prints them as {} and [].
	TopicStats(topic string) (TopicStats, error)
	// Subscriptions lists the topic's subscriptions, durable and not (as
	// Pulsar's topic.getSubscriptions(); replicator cursors excluded).
	Subscriptions(topic string) ([]string, error)

	// CreateSubscription creates a durable subscription whose cursor starts
	// at `at`: Earliest, Latest, or a position (then like ResetCursor to
	// it: read position = at, mark-delete = the entry before). replicated
	// marks it as a PIP-33 replicated subscription. ErrSubscriptionExists
	// if present. (Pulsar auto-creates a missing topic here when topic
	// auto-creation is allowed, its default, and otherwise answers 412
	// "Topic does not exist and cannot be auto-created".)
	CreateSubscription(topic, sub string, at ledger.Position, replicated bool) error
	// DeleteSubscription deletes a subscription; without force it fails
	// with ErrSubscriptionBusy while consumers are connected.
	DeleteSubscription(topic, sub string, force bool) error
	// ResetCursor disconnects the subscription's consumers and resets its
	// cursor to `to` (ledger.Cursor.ResetTo semantics). `to` is always a
	// concrete position: the server resolves earliest, latest and
	// isExcluded against the ledger first.
	ResetCursor(topic, sub string, to ledger.Position) error
	// ResetCursorByTime resets to the first entry published at or after
	// unixMs (or past the end when none), disconnecting consumers.
	ResetCursorByTime(topic, sub string, unixMs int64) error
	// SkipMessages marks the next n (> 0) unacknowledged entries acked.
	SkipMessages(topic, sub string, n int64) error
	// SkipAll acknowledges everything up to the last confirmed entry.
	SkipAll(topic, sub string) error

	// MessageByID decodes the entry at p for GET .../ledger/{l}/entry/{e}
	// (ErrMessageNotFound if absent or a marker).
	MessageByID(topic string, p ledger.Position) (Message, error)
}

// SimController is the /sim fault API (emulator-arch.md), implemented by
// package emulator for the whole sim.
type SimController interface {
	PauseLink(from, to string) error
	ResumeLink(from, to string) error
	SetLinkLatency(from, to string, d time.Duration) error
	StopCluster(name string) error
	StartCluster(name string) error
	// Status is served as JSON by GET /sim/status.
	Status() any
}

// Message is one entry decoded by the backend, served by the get-message-by-id
// endpoint the way Pulsar does: payload as body, metadata as headers.
type Message struct {
	Position ledger.Position
	// Payload is the entry payload after the metadata (for a batch, the
	// whole batch payload: [u32 size][SingleMessageMetadata][payload]...).
	Payload     []byte
	PublishTime int64 // unix ms
	EventTime   int64 // unix ms, 0 if unset
	// NumMessagesInBatch is > 0 when the metadata has num_messages_in_batch
	// (the entry is a batch); pulsaradmin then splits the payload.
	NumMessagesInBatch int32
	Properties         map[string]string
	ProducerName       string
	SequenceID         int64
	ReplicatedFrom     string
	PartitionKey       string
}

// TopicStats is Pulsar's TopicStats JSON (TopicStatsImpl / PersistentTopic
// .getStats) for one non-partitioned topic or partition.
type TopicStats struct {
	MsgRateIn              float64                      `json:"msgRateIn"`
	MsgThroughputIn        float64                      `json:"msgThroughputIn"`
	MsgRateOut             float64                      `json:"msgRateOut"`
	MsgThroughputOut       float64                      `json:"msgThroughputOut"`
	BytesInCounter         int64                        `json:"bytesInCounter"`
	MsgInCounter           int64                        `json:"msgInCounter"`
	BytesOutCounter        int64                        `json:"bytesOutCounter"`
	MsgOutCounter          int64                        `json:"msgOutCounter"`
	AverageMsgSize         float64                      `json:"averageMsgSize"`
	MsgChunkPublished      bool                         `json:"msgChunkPublished"`
	StorageSize            int64                        `json:"storageSize"`
	BacklogSize            int64                        `json:"backlogSize"`
	EarliestMsgPublishTime int64                        `json:"earliestMsgPublishTimeInBacklogs"`
	OffloadedStorageSize   int64                        `json:"offloadedStorageSize"`
	Publishers             []PublisherStats             `json:"publishers"`
	WaitingPublishers      int                          `json:"waitingPublishers"`
	Subscriptions          map[string]SubscriptionStats `json:"subscriptions"`
	Replication            map[string]ReplicatorStats   `json:"replication"`
	DeduplicationStatus    string                       `json:"deduplicationStatus,omitempty"`
	NonContiguousRanges    int                          `json:"nonContiguousDeletedMessagesRanges"`
	NonContiguousRangesSz  int                          `json:"nonContiguousDeletedMessagesRangesSerializedSize"`
	TopicCreationTimeStamp int64                        `json:"topicCreationTimeStamp"`
	LastPublishTimeStamp   int64                        `json:"lastPublishTimeStamp"`
}

// PublisherStats is Pulsar's PublisherStats JSON.
type PublisherStats struct {
	AccessMode      string            `json:"accessMode"`
	MsgRateIn       float64           `json:"msgRateIn"`
	MsgThroughputIn float64           `json:"msgThroughputIn"`
	AverageMsgSize  float64           `json:"averageMsgSize"`
	ProducerID      int64             `json:"producerId"`
	ProducerName    string            `json:"producerName"`
	Address         string            `json:"address"`
	ConnectedSince  string            `json:"connectedSince"`
	ClientVersion   string            `json:"clientVersion"`
	Metadata        map[string]string `json:"metadata"`
}

// SubscriptionStats is Pulsar's SubscriptionStats JSON.
type SubscriptionStats struct {
	MsgRateOut                       float64           `json:"msgRateOut"`
	MsgThroughputOut                 float64           `json:"msgThroughputOut"`
	BytesOutCounter                  int64             `json:"bytesOutCounter"`
	MsgOutCounter                    int64             `json:"msgOutCounter"`
	MsgRateRedeliver                 float64           `json:"msgRateRedeliver"`
	MessageAckRate                   float64           `json:"messageAckRate"`
	MsgBacklog                       int64             `json:"msgBacklog"`
	BacklogSize                      int64             `json:"backlogSize"`
	MsgBacklogNoDelayed              int64             `json:"msgBacklogNoDelayed"`
	BlockedOnUnackedMsgs             bool              `json:"blockedSubscriptionOnUnackedMsgs"`
	MsgDelayed                       int64             `json:"msgDelayed"`
	UnackedMessages                  int64             `json:"unackedMessages"`
	Type                             string            `json:"type"` // Exclusive, Shared, Failover, Key_Shared
	ActiveConsumerName               string            `json:"activeConsumerName,omitempty"`
	MsgRateExpired                   float64           `json:"msgRateExpired"`
	TotalMsgExpired                  int64             `json:"totalMsgExpired"`
	LastExpireTimestamp              int64             `json:"lastExpireTimestamp"`
	LastConsumedFlowTimestamp        int64             `json:"lastConsumedFlowTimestamp"`
	LastConsumedTimestamp            int64             `json:"lastConsumedTimestamp"`
	LastAckedTimestamp               int64             `json:"lastAckedTimestamp"`
	LastMarkDeleteAdvancedTimestamp  int64             `json:"lastMarkDeleteAdvancedTimestamp"`
	Consumers                        []ConsumerStats   `json:"consumers"`
	IsDurable                        bool              `json:"isDurable"`
	IsReplicated                     bool              `json:"isReplicated"`
	AllowOutOfOrderDelivery          bool              `json:"allowOutOfOrderDelivery"`
	ConsumersAfterMarkDeletePosition map[string]string `json:"consumersAfterMarkDeletePosition"`
	NonContiguousRanges              int               `json:"nonContiguousDeletedMessagesRanges"`
	NonContiguousRangesSz            int               `json:"nonContiguousDeletedMessagesRangesSerializedSize"`
	SubscriptionProperties           map[string]string `json:"subscriptionProperties"`
}

// ConsumerStats is Pulsar's ConsumerStats JSON.
type ConsumerStats struct {
	MsgRateOut                   float64           `json:"msgRateOut"`
	MsgThroughputOut             float64           `json:"msgThroughputOut"`
	BytesOutCounter              int64             `json:"bytesOutCounter"`
	MsgOutCounter                int64             `json:"msgOutCounter"`
	MsgRateRedeliver             float64           `json:"msgRateRedeliver"`
	MessageAckRate               float64           `json:"messageAckRate"`
	ConsumerName                 string            `json:"consumerName"`
	AvailablePermits             int               `json:"availablePermits"`
	UnackedMessages              int               `json:"unackedMessages"`
	AvgMessagesPerEntry          int               `json:"avgMessagesPerEntry"`
	BlockedConsumerOnUnackedMsgs bool              `json:"blockedConsumerOnUnackedMsgs"`
	LastAckedTimestamp           int64             `json:"lastAckedTimestamp"`
	LastConsumedTimestamp        int64             `json:"lastConsumedTimestamp"`
	LastConsumedFlowTimestamp    int64             `json:"lastConsumedFlowTimestamp"`
	Address                      string            `json:"address"`
	ConnectedSince               string            `json:"connectedSince"`
	ClientVersion                string            `json:"clientVersion"`
	Metadata                     map[string]string `json:"metadata"`
}

// ReplicatorStats is Pulsar's ReplicatorStats JSON (one per remote cluster,
// under "replication").
type ReplicatorStats struct {
	MsgRateIn                 float64 `json:"msgRateIn"`
	MsgThroughputIn           float64 `json:"msgThroughputIn"`
	MsgRateOut                float64 `json:"msgRateOut"`
	MsgThroughputOut          float64 `json:"msgThroughputOut"`
	MsgInCount                int64   `json:"msgInCount"`
	BytesInCount              int64   `json:"bytesInCount"`
	MsgOutCount               int64   `json:"msgOutCount"`
	BytesOutCount             int64   `json:"bytesOutCount"`
	MsgRateExpired            float64 `json:"msgRateExpired"`
	ReplicationBacklog        int64   `json:"replicationBacklog"`
	Connected                 bool    `json:"connected"`
	ReplicationDelayInSeconds int64   `json:"replicationDelayInSeconds"`
	InboundConnection         string  `json:"inboundConnection,omitempty"`
	InboundConnectedSince     string  `json:"inboundConnectedSince,omitempty"`
	OutboundConnection        string  `json:"outboundConnection,omitempty"`
	OutboundConnectedSince    string  `json:"outboundConnectedSince,omitempty"`
}
