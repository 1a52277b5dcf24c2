// Run by subsync's test bed (integration/testbed/expire.go) with Java's
// source-file launcher and rocksdbjni on the class path, between a
// cluster's SIGKILL and its restart:
//
//	java -cp rocksdbjni.jar ExpireSessions.java METADATA_DIR
//
// It deletes every ephemeral node of the standalone's RocksDB metadata
// store, printing each path, as ZooKeeper deletes a dead session's
// ephemeral nodes once the session expires. Pulsar's RocksdbMetadataStore
// has no sessions: the killed JVM's nodes stay, and the restarted JVM
// deletes them lazily on its first read, under locks it already holds
// again (see docs/testbed.md for what that does to the bookie).

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.TransactionDB;
import org.rocksdb.TransactionDBOptions;
import org.rocksdb.WriteOptions;

public class ExpireSessions {
    // A node's value in RocksdbMetadataStore (format version 1): int header
    // size, int format version, long version, long owner instance, long
    // created, long modified, byte ephemeral, then the node's data.
    private static final int EPHEMERAL_AT = 4 + 4 + 8 + 8 + 8 + 8;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ExpireSessions METADATA_DIR");
            System.exit(2);
        }
        RocksDB.loadLibrary();
        // Opened as Pulsar opens it (a TransactionDB, default options), and
        // never created: no store, nothing to expire.
        try (Options options = new Options().setCreateIfMissing(false);
             TransactionDBOptions txOptions = new TransactionDBOptions();
             TransactionDB db = TransactionDB.open(options, txOptions, args[0]);
             WriteOptions sync = new WriteOptions().setSync(true)) {
            List<byte[]> expired = new ArrayList<>();
            try (RocksIterator it = db.newIterator()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    // Node paths start with '/'; the store's own counters
                    // (instance id, sequential id) do not.
                    if (key.length > 0 && key[0] == '/' && ephemeral(it.value())) {
                        expired.add(key);
                    }
                }
            }
            for (byte[] key : expired) {
                db.delete(sync, key);
                System.out.println(new String(key, StandardCharsets.UTF_8));
            }
        }
    }

    static boolean ephemeral(byte[] value) {
        if (value == null || value.length <= EPHEMERAL_AT) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        int headerSize = b.getInt(0);
        int format = b.getInt(4);
        return format >= 1 && headerSize > EPHEMERAL_AT && value[EPHEMERAL_AT] != 0;
    }
}
