package io.fluxmq.raft.engine;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.RaftLog;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract against {@link SegmentRaftLog}, with segments of 1 KiB (the standard log spans several) and an index
 * entry every 128 bytes, so boundaries come from the index, from scans and from other segments.
 */
class SegmentRaftLogContractTest extends RaftLogContractTest {

    static final SegmentLogConfig SMALL = new SegmentLogConfig(1024, Long.MAX_VALUE, 128, 4096);

    @TempDir
    Path dir;
    private SegmentRaftLog open;

    @Override
    protected RaftLog newLog() throws IOException {
        open = SegmentRaftLog.open(dir.resolve("log"), SMALL, () -> 0L);
        return open;
    }

    @Override
    protected RaftLog reopen(RaftLog log) throws IOException {
        ((SegmentRaftLog) log).close();
        open = SegmentRaftLog.open(dir.resolve("log"), SMALL, () -> 0L);
        return open;
    }

    @AfterEach
    void close() throws IOException {
        if (open != null) {
            open.close();
        }
    }
}
