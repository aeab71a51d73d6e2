package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.RaftLogContractTest.assertSameEntries;
import static io.fluxmq.raft.engine.TestEntries.batch;
import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.HardState;
import io.fluxmq.raftcore.Message;
import io.fluxmq.raftcore.NotLeaderException;
import io.fluxmq.raftcore.RaftConfig;
import io.fluxmq.raftcore.RaftGroup;
import io.fluxmq.raftcore.Ready;
import io.fluxmq.raftcore.engine.GroupStorage.Persist;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@link RaftGroup} members in one thread over {@link SegmentRaftLog}s and {@link FileGroupStorage}s, messages
 * delivered by hand: the leader replicates real Kafka batches, a member restarted from its directory comes back with
 * its term and log and catches up, and a whole group restarted from disk elects again and keeps every committed entry.
 */
class RaftGroupsOnSegmentLogsTest {

    private static final long GROUP = 42;
    private static final Set<Integer> VOTERS = Set.of(1, 2, 3);
    private static final SegmentLogConfig CONFIG = new SegmentLogConfig(4096, Long.MAX_VALUE, 512, 4096);

    @TempDir
    Path dir;
    private final Map<Integer, Member> members = new TreeMap<>();
    private final ArrayDeque<Message> wire = new ArrayDeque<>();
    private long nowMs;

    /** One node's member of the group and its storage. */
    private final class Member implements AutoCloseable {
        final SegmentRaftLog log;
        final HardStateFile hardStates;
        final FileGroupStorage storage;
        final RaftGroup raft;

        Member(int id) throws IOException {
            log = SegmentRaftLog.open(dir.resolve("node-" + id).resolve("log"), CONFIG, () -> 0L);
            hardStates = HardStateFile.open(dir.resolve("node-" + id).resolve("raft-hard-state"));
            storage = new FileGroupStorage(hardStates);
            raft = new RaftGroup(new RaftConfig(id, VOTERS, 100, 10, 4, 1 << 20), log,
                storage.initialHardState(GROUP, log), 0, new Random(id), nowMs);
        }

        @Override
        public void close() throws IOException {
            log.close();
        }
    }

    @AfterEach
    void closeAll() throws IOException {
        for (Member member : members.values()) {
            member.close();
        }
    }

    private void start(int id) throws IOException {
        members.put(id, new Member(id));
    }

    /** Ready, persist (one call per member), advance, deliver; until nothing moves (bounded). */
    private void settle() {
        for (int round = 0; round < 10_000; round++) {
            boolean moved = false;
            for (Member member : members.values()) {
                if (member.raft.hasReady()) {
                    Ready ready = member.raft.ready();
                    wire.addAll(ready.messages());
                    member.storage.persist(List.of(new Persist(GROUP, member.log, ready.hardState(),
                        ready.persistEnd())));
                    wire.addAll(member.raft.advance(ready));
                    moved = true;
                }
            }
            while (!wire.isEmpty()) {
                Message message = wire.poll();
                Member to = members.get(message.to());
                if (to != null) {
                    to.raft.receive(message, nowMs);
                }
                moved = true;
            }
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("no quiet state after 10,000 rounds");
    }

    private void runFor(long ms) {
        for (long end = nowMs + ms; nowMs < end; ) {
            nowMs += 5;
            for (Member member : members.values()) {
                member.raft.tick(nowMs);
            }
            settle();
        }
    }

    private Member awaitLeader() {
        for (int i = 0; i < 400; i++) {
            runFor(5);
            for (Member member : members.values()) {
                if (member.raft.role() == RaftGroup.Role.LEADER) {
                    return member;
                }
            }
        }
        throw new AssertionError("no leader within 2 s of simulated time");
    }

    /** Proposes {@code count} batches as a producer built them (offset 0, no epoch) and lets them commit. */
    private void propose(Member leader, int count) throws NotLeaderException {
        for (int i = 0; i < count; i++) {
            int records = 1 + i % 5;
            leader.raft.propose(batch(0, records, RecordBatch.NO_PARTITION_LEADER_EPOCH, 60), records, nowMs);
            settle();
        }
        runFor(50);
    }

    private static void assertKafkaLog(SegmentRaftLog log) {
        long next = 0;
        long lastEpoch = 0;
        while (next < log.endOffset()) {
            MemoryRecords records = log.segmentLog().read(next, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            for (MutableRecordBatch batch : records.batches()) {
                batch.ensureValid();
                assertThat(batch.baseOffset()).isEqualTo(next);
                assertThat(batch.partitionLeaderEpoch()).isGreaterThanOrEqualTo((int) lastEpoch);
                lastEpoch = batch.partitionLeaderEpoch();
                next = batch.nextOffset();
            }
        }
    }

    @Test
    void replicatesKafkaBatchesAndMembersRestartFromDisk() throws Exception {
        for (int id : VOTERS) {
            start(id);
        }
        Member leader = awaitLeader();
        long term = leader.raft.term();
        propose(leader, 20);
        long end = leader.log.endOffset();
        for (Member member : members.values()) {
            assertThat(member.raft.commitOffset()).isEqualTo(end);
            assertSameEntries(member.log.read(0, Integer.MAX_VALUE), leader.log.read(0, Integer.MAX_VALUE));
            assertKafkaLog(member.log);
        }
        assertThat(leader.log.segmentLog().segmentCount()).isGreaterThan(1);

        int followerId = members.keySet().stream().filter(id -> members.get(id) != leader).findFirst().orElseThrow();
        Member follower = members.remove(followerId);
        HardState before = follower.hardStates.get(GROUP);
        assertThat(before.term()).isEqualTo(term);
        follower.close();
        propose(leader, 10); // committed by the two others meanwhile
        assertThat(leader.raft.commitOffset()).isGreaterThan(end);

        start(followerId);
        Member restarted = members.get(followerId);
        assertThat(restarted.hardStates.get(GROUP)).isEqualTo(before);
        assertThat(restarted.raft.term()).isEqualTo(term);
        assertThat(restarted.log.endOffset()).isEqualTo(end);
        runFor(300);
        assertThat(leader.raft.role()).isEqualTo(RaftGroup.Role.LEADER);
        assertThat(leader.raft.term()).isEqualTo(term);
        assertThat(restarted.log.endOffset()).isEqualTo(leader.log.endOffset());
        assertThat(restarted.raft.commitOffset()).isEqualTo(leader.raft.commitOffset());
        assertSameEntries(restarted.log.read(0, Integer.MAX_VALUE), leader.log.read(0, Integer.MAX_VALUE));

        List<Entry> committed = new ArrayList<>();
        for (Entry entry : leader.log.read(0, Integer.MAX_VALUE)) {
            // DATA entries are views of the mapped segment: keep copies past the close
            committed.add(entry.kind() != Entry.Kind.DATA ? entry
                : Entry.data(entry.baseOffset(), entry.count(), entry.term(), ByteBuffer.wrap(TestEntries.bytes(entry))));
        }
        long committedEnd = leader.raft.commitOffset();
        for (Member member : members.values()) {
            member.close();
        }
        members.clear();
        for (int id : VOTERS) {
            start(id);
        }
        Member next = awaitLeader();
        assertThat(next.raft.term()).isGreaterThan(term);
        propose(next, 1);
        for (Member member : members.values()) {
            assertThat(member.raft.commitOffset()).isGreaterThan(committedEnd);
            assertSameEntries(member.log.read(0, Integer.MAX_VALUE).subList(0, committed.size()), committed);
            assertKafkaLog(member.log);
        }
    }
}
