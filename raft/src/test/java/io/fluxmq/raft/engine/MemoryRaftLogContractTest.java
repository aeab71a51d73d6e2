package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.MemoryRaftLog;
import io.fluxmq.raftcore.RaftLog;

/** The contract against raft-core's in-memory reference, so the contract itself is checked against a known model. */
class MemoryRaftLogContractTest extends RaftLogContractTest {

    @Override
    protected RaftLog newLog() {
        return new MemoryRaftLog();
    }

    @Override
    protected RaftLog reopen(RaftLog log) {
        return log;
    }
}
