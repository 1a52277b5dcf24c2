package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/subsync/subsync/integration/ledger"
)

// topicRef is a topic addressed by a /persistent/{tenant}/{ns}/{topic} path.
type topicRef struct {
	name      string // "persistent://tenant/ns/local"
	partition int    // index when local ends in -partition-N, else -1
}

const partitionSuffix = "-partition-"

// decodeTopic mirrors Pulsar: the topic path segment is taken @Encoded and
// URL-decoded once by Codec.decode (java.net.URLDecoder: '+' becomes ' ').
func decodeTopic(raw string) (string, error) {
	local, err := url.QueryUnescape(raw)
	if err != nil || local == "" {
		return "", Errorf(http.StatusBadRequest, "Invalid topic name %q: not a URL-encoded name", raw)
	}
	return local, nil
}

// decodeSubscription mirrors Pulsar: the subscription segment is path-decoded
// by JAX-RS and then decoded again by Codec.decode, so pulsaradmin's double
// escaping gives the intended name; so does a single-escaped curl path as
// long as the name holds no '%' or '+' (Pulsar behaves the same).
func decodeSubscription(pathDecoded string) (string, error) {
	sub, err := url.QueryUnescape(pathDecoded)
	if err != nil || sub == "" {
		return "", Errorf(http.StatusBadRequest, "Invalid subscription name %q: not a URL-encoded name", pathDecoded)
	}
	return sub, nil
}

func partitionIndex(name string) int {
	i := strings.LastIndex(name, partitionSuffix)
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(name[i+len(partitionSuffix):])
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// routePersistent serves /admin/v2/persistent/{tenant}/{ns}[/{topic}/...];
// at indexes the tenant segment.
func (s *Server) routePersistent(q *request, at int) error {
	rest := q.segs[at:]
	if len(rest) < 2 {
		return errNoRoute
	}
	ns := rest[0] + "/" + rest[1]
	if _, _, err := splitNamespace(ns); err != nil {
		return err
	}
	switch {
	case len(rest) == 2:
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return s.listTopics(q, ns) },
		})
	case len(rest) == 3 && rest[2] == "partitioned":
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return s.listPartitionedTopics(q, ns) },
		})
	}
	local, err := decodeTopic(q.raw[at+2])
	if err != nil {
		return err
	}
	t := topicRef{name: "persistent://" + ns + "/" + local, partition: partitionIndex(local)}
	if _, err := s.md.Policies(ns); err != nil {
		return err
	}
	return s.routeTopic(q, t, at+3)
}

func (s *Server) routeTopic(q *request, t topicRef, at int) error {
	rest := q.segs[at:]
	if len(rest) == 0 {
		return q.method(map[string]func() error{
			http.MethodPut:    func() error { return s.createTopic(q, t) },
			http.MethodDelete: func() error { return s.deleteTopic(q, t, false) },
		})
	}
	get := func(h func(*request, topicRef) error) error {
		if len(rest) != 1 {
			return errNoRoute
		}
		return q.method(map[string]func() error{http.MethodGet: func() error { return h(q, t) }})
	}
	switch rest[0] {
	case "partitions":
		if len(rest) != 1 {
			return errNoRoute
		}
		return q.method(map[string]func() error{
			http.MethodGet:    func() error { return s.partitionedMetadata(q, t) },
			http.MethodPut:    func() error { return s.createPartitionedTopic(q, t) },
			http.MethodPost:   func() error { return ErrNotSupported },
			http.MethodDelete: func() error { return s.deleteTopic(q, t, true) },
		})
	case "stats":
		return get(s.topicStats)
	case "partitioned-stats":
		return get(s.partitionedStats)
	case "internalStats":
		return get(s.internalStats)
	case "lastMessageId":
		return get(s.lastMessageID)
	case "subscriptions":
		return get(s.listSubscriptions)
	case "subscription":
		if len(rest) < 2 {
			return errNoRoute
		}
		sub, err := decodeSubscription(rest[1])
		if err != nil {
			return err
		}
		return s.routeSubscription(q, t, sub, rest[2:])
	case "ledger":
		if len(rest) != 4 || rest[2] != "entry" {
			return errNoRoute
		}
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return s.messageByID(q, t, rest[1], rest[3]) },
		})
	}
	return errNoRoute
}

// ---- topic lists ----

func (s *Server) listTopics(q *request, ns string) error {
	if _, err := s.md.Policies(ns); err != nil {
		return err
	}
	topics, err := s.backend.Topics(ns)
	if err != nil {
		return describe(err, "list topics", ns, "")
	}
	return q.ok(nonNil(topics))
}

func (s *Server) listPartitionedTopics(q *request, ns string) error {
	if _, err := s.md.Policies(ns); err != nil {
		return err
	}
	topics, err := s.backend.PartitionedTopics(ns)
	if err != nil {
		return describe(err, "list partitioned topics", ns, "")
	}
	return q.ok(nonNil(topics))
}

// routeNonPersistent answers the listing calls pulsaradmin's Topics().List
// always makes with empty lists (the emulator has no non-persistent
// topics) and everything else with 501.
func (s *Server) routeNonPersistent(q *request, rest []string) error {
	if len(rest) == 2 || (len(rest) == 3 && rest[2] == "partitioned") {
		ns := rest[0] + "/" + rest[1]
		return q.method(map[string]func() error{
			http.MethodGet: func() error {
				if _, err := s.md.Policies(ns); err != nil {
					return err
				}
				return q.ok([]string{})
			},
		})
	}
	return Errorf(http.StatusNotImplemented, "Non-persistent topics are not supported by the emulator")
}

// ---- create / delete ----

func (s *Server) createTopic(q *request, t topicRef) error {
	var props map[string]string // accepted; topic properties are not emulated
	if err := q.readJSON(&props, true); err != nil {
		return err
	}
	if err := s.checkPartitionSuffix(t); err != nil {
		return err
	}
	return noContentOr(q, describe(s.backend.CreateTopic(t.name), "create topic", t.name, ""))
}

// checkPartitionSuffix mirrors PersistentTopicsBase
// .validateNonPartitionTopicNameAsync: a non-partitioned topic may be named
// "x-partition-N" only while x is partitioned with more than N partitions.
func (s *Server) checkPartitionSuffix(t topicRef) error {
	i := strings.LastIndex(t.name, partitionSuffix)
	if t.partition < 0 || i < 0 {
		return nil
	}
	parent := t.name[:i]
	n, err := s.backend.PartitionedMetadata(parent)
	if err != nil {
		return describe(err, "partitioned metadata", parent, "")
	}
	local := t.name[strings.LastIndex(t.name, "/")+1:]
	parentLocal := parent[strings.LastIndex(parent, "/")+1:]
	switch {
	case n == 0:
		return Errorf(http.StatusPreconditionFailed, "Can't create topic %s with \"-partition-\" followed by"+
			" numeric value if there isn't a partitioned topic %s created.", local, parentLocal)
	case t.partition >= n:
		return Errorf(http.StatusPreconditionFailed, "Can't create topic %s with \"-partition-\" followed by"+
			" a number smaller then number of partition of partitioned topic %s", local, parentLocal)
	}
	return nil
}

func (s *Server) createPartitionedTopic(q *request, t topicRef) error {
	n, err := readPartitionCount(q)
	if err != nil {
		return err
	}
	if strings.Contains(t.name, partitionSuffix) {
		return Errorf(http.StatusPreconditionFailed, "Partitioned Topic Name should not contain '%s'", partitionSuffix)
	}
	return noContentOr(q, describe(s.backend.CreatePartitionedTopic(t.name, n), "create partitioned topic", t.name, ""))
}

// maxPartitions bounds a partitioned topic (Pulsar's
// maxNumPartitionsPerPartitionedTopic; its default 0 means unbounded, but
// an emulator creating a million ledgers on a typo helps nobody).
const maxPartitions = 10_000

// readPartitionCount accepts Pulsar's Java admin body (a bare integer) and
// pulsaradmin's ({"partitions": N, "properties": {...}}).
func readPartitionCount(q *request) (int, error) {
	var raw json.RawMessage
	if err := q.readJSON(&raw, false); err != nil {
		return 0, err
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		var obj struct {
			Partitions *int64 `json:"partitions"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil || obj.Partitions == nil {
			return 0, Errorf(http.StatusBadRequest,
				"Invalid body %.40q: expected an integer or {\"partitions\": <integer>}", string(raw))
		}
		n = *obj.Partitions
	}
	if n <= 0 {
		return 0, Errorf(http.StatusNotAcceptable, "Number of partitions should be more than 0")
	}
	if n > maxPartitions {
		return 0, Errorf(http.StatusNotAcceptable, "Number of partitions should be less than or equal to %d", maxPartitions)
	}
	return int(n), nil
}

func (s *Server) deleteTopic(q *request, t topicRef, partitioned bool) error {
	force, err := q.boolQuery("force")
	if err != nil {
		return err
	}
	if partitioned {
		return noContentOr(q, describe(s.backend.DeletePartitionedTopic(t.name, force), "delete partitioned topic", t.name, ""))
	}
	return noContentOr(q, describe(s.backend.DeleteTopic(t.name, force), "delete topic", t.name, ""))
}

// partitionedMetadata is internalGetPartitionedMetadataAsync: 0 partitions
// for a non-partitioned topic, but 404 when no such topic exists, unless
// the caller says it may auto-create it (checkAllowAutoCreation=true).
func (s *Server) partitionedMetadata(q *request, t topicRef) error {
	mayCreate, err := q.boolQuery("checkAllowAutoCreation")
	if err != nil {
		return err
	}
	n, err := s.backend.PartitionedMetadata(t.name)
	if err != nil {
		return describe(err, "partitioned metadata", t.name, "")
	}
	if n == 0 && !mayCreate {
		if _, err := s.backend.Ledger(t.name); err != nil {
			return describe(err, "partitioned metadata", t.name, "")
		}
	}
	return q.ok(partitionsBody{n})
}

// partitionsOf resolves a topic to the managed ledgers behind it: its
// partitions when partitioned, else itself.
func (s *Server) partitionsOf(t topicRef) (names []string, partitioned bool, err error) {
	if t.partition >= 0 {
		return []string{t.name}, false, nil
	}
	n, err := s.backend.PartitionedMetadata(t.name)
	if err != nil {
		return nil, false, describe(err, "partitioned metadata", t.name, "")
	}
	if n == 0 {
		return []string{t.name}, false, nil
	}
	names = make([]string, n)
	for i := range names {
		names[i] = t.name + partitionSuffix + strconv.Itoa(i)
	}
	return names, true, nil
}

// ---- stats ----

func (s *Server) topicStats(q *request, t topicRef) error {
	st, err := s.backend.TopicStats(t.name)
	if err != nil {
		return describe(err, "stats", t.name, "")
	}
	return q.ok(normaliseStats(st))
}

func (s *Server) internalStats(q *request, t topicRef) error {
	ml, err := s.backend.Ledger(t.name)
	if err != nil {
		return describe(err, "internal stats", t.name, "")
	}
	return q.ok(ml.InternalStats())
}

// lastMessageID is PersistentTopic.getLastMessageId as JSON: the last
// confirmed entry, with the batch index of its last message when the entry
// is a batch (BatchMessageIdImpl), and the partition index or -1.
func (s *Server) lastMessageID(q *request, t topicRef) error {
	ml, err := s.backend.Ledger(t.name)
	if err != nil {
		return describe(err, "last message id", t.name, "")
	}
	lac := ml.LastConfirmed()
	out := map[string]any{"ledgerId": lac.Ledger, "entryId": lac.Entry, "partitionIndex": t.partition}
	if e, ok := ml.Get(lac); ok && e.NumMessages > 1 {
		out["batchIndex"] = e.NumMessages - 1
	}
	return q.ok(out)
}

// ---- subscriptions ----

func (s *Server) listSubscriptions(q *request, t topicRef) error {
	topics, _, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, name := range topics {
		subs, err := s.backend.Subscriptions(name)
		if err != nil {
			return describe(err, "list subscriptions", name, "")
		}
		for _, sub := range subs {
			seen[sub] = true
		}
	}
	return q.ok(sortedKeys(seen))
}

func (s *Server) routeSubscription(q *request, t topicRef, sub string, rest []string) error {
	post := func(h func() error) error {
		return q.method(map[string]func() error{http.MethodPost: h})
	}
	switch {
	case len(rest) == 0:
		return q.method(map[string]func() error{
			http.MethodPut:    func() error { return s.createSubscription(q, t, sub) },
			http.MethodDelete: func() error { return s.deleteSubscription(q, t, sub) },
		})
	case rest[0] == "resetcursor" && len(rest) == 1:
		return post(func() error { return s.resetCursor(q, t, sub) })
	case rest[0] == "resetcursor" && len(rest) == 2:
		return post(func() error { return s.resetCursorByTime(q, t, sub, rest[1]) })
	case rest[0] == "skip" && len(rest) == 2:
		return post(func() error { return s.skip(q, t, sub, rest[1]) })
	case rest[0] == "skip_all" && len(rest) == 1:
		return post(func() error { return s.skipAll(q, t, sub) })
	}
	return errNoRoute
}

// cursorBody is Pulsar's ResetCursorData, the body of create-subscription
// and reset-cursor (pulsaradmin sends only the MessageId fields).
type cursorBody struct {
	LedgerID       *int64            `json:"ledgerId"`
	EntryID        *int64            `json:"entryId"`
	PartitionIndex *int              `json:"partitionIndex"`
	IsExcluded     bool              `json:"isExcluded"`
	BatchIndex     *int              `json:"batchIndex"`
	Properties     map[string]string `json:"properties"`
}

// position validates the body's message id: -1:-1 (earliest), the latest
// marker, or a real position (ledger >= 0, entry >= -1).
func (b cursorBody) position() (ledger.Position, error) {
	if b.LedgerID == nil || b.EntryID == nil {
		return ledger.Position{}, Errorf(http.StatusBadRequest,
			"Invalid message id: both ledgerId and entryId are required")
	}
	p := ledger.Position{Ledger: *b.LedgerID, Entry: *b.EntryID}
	if p == Earliest || p == Latest || (p.Ledger >= 0 && p.Entry >= -1) {
		return p, nil
	}
	return ledger.Position{}, Errorf(http.StatusPreconditionFailed,
		"Invalid message id %d:%d: expected ledgerId >= 0 and entryId >= -1, -1:-1 (earliest) or %d:%d (latest)",
		p.Ledger, p.Entry, Latest.Ledger, Latest.Entry)
}

// createSubscription is PersistentTopicsBase.internalCreateSubscription: no
// body means latest; on a partitioned topic it creates the subscription on
// every partition and fails with 409 only when it existed on all of them.
func (s *Server) createSubscription(q *request, t topicRef, sub string) error {
	replicated, err := q.boolQuery("replicated")
	if err != nil {
		return err
	}
	var body cursorBody
	if err := q.readJSON(&body, true); err != nil {
		return err
	}
	at := Latest
	if body.LedgerID != nil || body.EntryID != nil {
		if at, err = body.position(); err != nil {
			return err
		}
	}
	topics, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	if !partitioned {
		err := s.backend.CreateSubscription(t.name, sub, at, replicated)
		return noContentOr(q, describe(err, "create subscription", t.name, sub))
	}
	conflicts := 0
	for _, name := range topics {
		err := s.backend.CreateSubscription(name, sub, at, replicated)
		switch {
		case err == nil:
		case errors.Is(err, ErrSubscriptionExists):
			conflicts++
		default:
			return describe(err, "create subscription", name, sub)
		}
	}
	if conflicts == len(topics) {
		return ErrSubscriptionExists
	}
	return q.noContent()
}

func (s *Server) deleteSubscription(q *request, t topicRef, sub string) error {
	force, err := q.boolQuery("force")
	if err != nil {
		return err
	}
	topics, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	for _, name := range topics {
		if err := s.backend.DeleteSubscription(name, sub, force); err != nil {
			if partitioned && errors.Is(err, ErrSubscriptionNotFound) {
				return describe(err, "delete subscription", t.name, sub)
			}
			return describe(err, "delete subscription", name, sub)
		}
	}
	return q.noContent()
}

// resetCursor is internalResetCursorOnPosition: refused on a partitioned
// topic (405), position taken as is, or the one after it when isExcluded.
// Earliest and latest markers are resolved against the ledger here, so the
// backend always receives a concrete position.
func (s *Server) resetCursor(q *request, t topicRef, sub string) error {
	var body cursorBody
	if err := q.readJSON(&body, false); err != nil {
		return err
	}
	p, err := body.position()
	if err != nil {
		return err
	}
	if _, partitioned, err := s.partitionsOf(t); err != nil {
		return err
	} else if partitioned {
		return Errorf(http.StatusMethodNotAllowed, "Reset-cursor at position is not allowed for partitioned-topic")
	}
	ml, err := s.backend.Ledger(t.name)
	if err != nil {
		return describe(err, "reset cursor", t.name, sub)
	}
	switch {
	case p == Earliest:
		p = ml.FirstPosition()
	case p == Latest:
		p = ml.Next(ml.LastConfirmed())
	case body.IsExcluded:
		p = ledger.Position{Ledger: p.Ledger, Entry: p.Entry + 1} // PositionImpl.getNext
	}
	return noContentOr(q, describe(s.backend.ResetCursor(t.name, sub, p), "reset cursor", t.name, sub))
}

// resetCursorByTime is internalResetCursorAsync: on a partitioned topic every
// partition is reset; 412 failures are tolerated unless all partitions fail.
func (s *Server) resetCursorByTime(q *request, t topicRef, sub, raw string) error {
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return Errorf(http.StatusBadRequest, "Invalid timestamp %q: expected unix milliseconds", raw)
	}
	topics, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	var lastPrecondition error
	failed := 0
	for _, name := range topics {
		err := s.backend.ResetCursorByTime(name, sub, ms)
		if err == nil {
			continue
		}
		if code, _ := statusOf(err); partitioned && code == http.StatusPreconditionFailed {
			failed++
			lastPrecondition = err
			continue
		}
		return describe(err, "reset cursor by time", name, sub)
	}
	if failed > 0 && failed == len(topics) {
		return lastPrecondition
	}
	return q.noContent()
}

func (s *Server) skip(q *request, t topicRef, sub, raw string) error {
	n, err := strconv.ParseInt(raw, 10, 32) // Pulsar's numMessages is an int
	if err != nil {
		return Errorf(http.StatusBadRequest, "Invalid number of messages %q: expected an integer", raw)
	}
	if n <= 0 {
		return Errorf(http.StatusPreconditionFailed, "Invalid number of messages %d: expected > 0", n)
	}
	_, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	if partitioned {
		return Errorf(http.StatusMethodNotAllowed, "Skip messages on a partitioned topic is not allowed")
	}
	return noContentOr(q, describe(s.backend.SkipMessages(t.name, sub, n), "skip messages", t.name, sub))
}

func (s *Server) skipAll(q *request, t topicRef, sub string) error {
	topics, partitioned, err := s.partitionsOf(t)
	if err != nil {
		return err
	}
	for _, name := range topics {
		if err := s.backend.SkipAll(name, sub); err != nil {
			if partitioned && errors.Is(err, ErrSubscriptionNotFound) {
				return describe(err, "skip all", t.name, sub)
			}
			return describe(err, "skip all", name, sub)
		}
	}
	return q.noContent()
}

// ---- get message by id ----

func (s *Server) messageByID(q *request, t topicRef, rawLedger, rawEntry string) error {
	l, err1 := strconv.ParseInt(rawLedger, 10, 64)
	e, err2 := strconv.ParseInt(rawEntry, 10, 64)
	if err1 != nil || err2 != nil || l < 0 || e < 0 {
		return Errorf(http.StatusBadRequest, "Invalid message id %s:%s: expected non-negative integers", rawLedger, rawEntry)
	}
	m, err := s.backend.MessageByID(t.name, ledger.Position{Ledger: l, Entry: e})
	if err != nil {
		return describe(err, "get message by id", t.name, "")
	}
	writeMessage(q.w, m, s.perKeyProperties)
	return nil
}

func writeMessage(w http.ResponseWriter, m Message, perKeyProperties bool) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Pulsar-Message-ID", m.Position.String())
	if m.PublishTime > 0 {
		h.Set("X-Pulsar-publish-time", formatTime(m.PublishTime))
	}
	if m.EventTime > 0 {
		h.Set("X-Pulsar-event-time", formatTime(m.EventTime))
	}
	if m.NumMessagesInBatch > 0 {
		h.Set("X-Pulsar-num-batch-message", strconv.Itoa(int(m.NumMessagesInBatch)))
		h.Set("X-Pulsar-batch-size", strconv.Itoa(len(m.Payload)))
	}
	h.Set("X-Pulsar-Is-Encrypted", "false")
	if m.ProducerName != "" {
		h.Set("X-Pulsar-producer-name", m.ProducerName)
	}
	h.Set("X-Pulsar-sequence-id", strconv.FormatInt(m.SequenceID, 10))
	if m.ReplicatedFrom != "" {
		h.Set("X-Pulsar-replicated-from", m.ReplicatedFrom)
	}
	if m.PartitionKey != "" {
		h.Set("X-Pulsar-partition-key", m.PartitionKey)
	}
	writeProperties(h, m.Properties, perKeyProperties)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(m.Payload)
}

// writeProperties sends the entry-level properties as Pulsar 3.1+ does
// (PIP-279: one JSON header) or, perKey, as 3.0.x did (a header per key;
// Go's HTTP stack canonicalises the name's case on either side).
func writeProperties(h http.Header, props map[string]string, perKey bool) {
	if len(props) == 0 {
		return
	}
	if !perKey {
		h.Set("X-Pulsar-PROPERTY", propertiesJSON(props))
		return
	}
	for k, v := range props {
		h.Add("X-Pulsar-PROPERTY-"+k, v)
	}
}

// propertiesJSON is the SNIP-279 X-Pulsar-PROPERTY header: one JSON object
// (json.Marshal sorts the keys, so the header is deterministic).
func propertiesJSON(p map[string]string) string {
	b, err := json.Marshal(p)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// formatTime renders unix ms like Pulsar's DateFormatter (ISO-8601 with
// offset, fraction without trailing zeros), in UTC.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}
