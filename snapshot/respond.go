package snapshot

import (
	"time"

	"github.com/subsync/subsync/ackset"
)

// ResponderState is what the responding daemon knows of a topic partition
// when a request arrives.
type ResponderState struct {
	Cluster string          // the local cluster
	LAC     ackset.Position // the local topic's last confirmed entry
	// Watermark is the highest position of the requester's origin that the
	// local tail index has seen on the topic; nil if none.
	Watermark *ackset.Position
	// Have is the encoded set of requester-origin entries the local tail
	// index holds (see SnapshotResponse.Have); nil to leave it out.
	Have []byte
	// TailPosition is where the local tail had read to; nil if unknown.
	TailPosition *ackset.Position
}

// Respond answers req with local's state at now. It returns false, and no
// response, for the local cluster's own request (every daemon sees its own
// requests on the geo-replicated control topic).
func Respond(now time.Time, req SnapshotRequest, local ResponderState) (SnapshotResponse, bool) {
	if req.Requester == local.Cluster {
		return SnapshotResponse{}, false
	}
	resp := SnapshotResponse{
		ID:           req.ID,
		Topic:        req.Topic,
		Requester:    req.Requester,
		Responder:    local.Cluster,
		ResponderLAC: local.LAC,
		SentAt:       now.UnixMilli(),
	}
	if local.Watermark != nil {
		w := *local.Watermark
		resp.Watermark = &w
	}
	if local.TailPosition != nil {
		p := *local.TailPosition
		resp.TailPosition = &p
	}
	resp.Have = append([]byte(nil), local.Have...)
	if len(resp.Have) == 0 {
		resp.Have = nil
	}
	return resp, true
}
