package emulator

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/subsync/subsync/integration/wire"
)

// decompress undoes an entry payload's compression, as the broker's admin
// get-message endpoint does (PersistentTopicsBase.generateResponseWithEntry
// decodes with the entry's codec before answering): the body of that answer
// is the uncompressed payload, a batch included.
func decompress(codec wire.Compression, payload []byte, size uint32) ([]byte, error) {
	switch codec {
	case wire.Compression_NONE:
		return payload, nil
	case wire.Compression_LZ4:
		out := make([]byte, size)
		n, err := lz4.UncompressBlock(payload, out)
		if err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
		return out[:n], nil
	case wire.Compression_ZLIB:
		r, err := zlib.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
		defer r.Close()
		return io.ReadAll(io.LimitReader(r, int64(size)))
	case wire.Compression_ZSTD:
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer d.Close()
		return d.DecodeAll(payload, make([]byte, 0, size))
	case wire.Compression_SNAPPY:
		return snappy.Decode(make([]byte, size), payload)
	}
	return nil, fmt.Errorf("unknown compression %v", codec)
}
