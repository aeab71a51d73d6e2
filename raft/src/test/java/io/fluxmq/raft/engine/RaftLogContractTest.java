package io.fluxmq.raft.engine;

import static io.fluxmq.raft.engine.TestEntries.bytes;
import static io.fluxmq.raft.engine.TestEntries.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.raftcore.Entry;
import io.fluxmq.raftcore.RaftLog;
import io.fluxmq.raftcore.Snapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every {@link RaftLog} must answer, run against the in-memory reference ({@link MemoryRaftLogContractTest}) and
 * the segment log ({@link SegmentRaftLogContractTest}). The standard log, by offset:
 * <pre>
 *  0      leader change, term 1
 *  1..3   data, term 1
 *  4..5   data, term 1
 *  6      leader change, term 2
 *  7      config {1,2,3,4}, term 2
 *  8..12  data, term 2
 *  13     leader change, term 4
 *  14     data, term 4
 *  15     config {1,2,3}, term 4
 *  16..19 data, term 4
 * </pre>
 */
abstract class RaftLogContractTest {

    /** A new, empty log. */
    protected abstract RaftLog newLog() throws Exception;

    /** The same log after a clean close and a new open (the memory log: itself). */
    protected abstract RaftLog reopen(RaftLog log) throws Exception;

    static List<Entry> standardEntries() {
        return List.of(
            Entry.leaderChange(0, 1),
            data(1, 3, 1),
            data(4, 2, 1, 200),
            Entry.leaderChange(6, 2),
            Entry.config(7, 2, Set.of(1, 2, 3, 4)),
            data(8, 5, 2),
            Entry.leaderChange(13, 4),
            data(14, 1, 4),
            Entry.config(15, 4, Set.of(1, 2, 3)),
            data(16, 4, 4));
    }

    static RaftLog fill(RaftLog log) {
        standardEntries().forEach(log::append);
        return log;
    }

    static void assertSameEntries(List<Entry> actual, List<Entry> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Entry a = actual.get(i);
            Entry e = expected.get(i);
            assertThat(a.samePlace(e)).as("%s is %s", a, e).isTrue();
            assertThat(bytes(a)).as("bytes of %s", a).isEqualTo(bytes(e));
        }
    }

    @Test
    void emptyLog() throws Exception {
        RaftLog log = newLog();
        assertThat(log.startOffset()).isZero();
        assertThat(log.startTerm()).isZero();
        assertThat(log.endOffset()).isZero();
        assertThat(log.lastTerm()).isZero();
        assertThat(log.termOfEntryEndingAt(-1)).isZero();
        assertThat(log.termOfEntryEndingAt(0)).isEqualTo(-1);
        assertThat(log.endOffsetForTerm(5)).isZero();
        assertThat(log.floorBoundary(3)).isZero();
        assertThat(log.read(0, 100)).isEmpty();
        assertThat(log.configEntries()).isEmpty();
    }

    @Test
    void appendsAndReadsWholeEntries() throws Exception {
        RaftLog log = fill(newLog());
        assertThat(log.endOffset()).isEqualTo(20);
        assertThat(log.lastTerm()).isEqualTo(4);
        assertSameEntries(log.read(0, Integer.MAX_VALUE), standardEntries());
        List<Entry> all = standardEntries();
        for (int i = 0; i < all.size(); i++) {
            assertSameEntries(log.read(all.get(i).baseOffset(), Integer.MAX_VALUE), all.subList(i, all.size()));
        }
        assertThat(log.read(20, 100)).isEmpty();
        assertThatThrownBy(() -> log.read(2, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.read(9, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.read(21, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.append(data(19, 1, 4))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.append(data(21, 1, 4))).isInstanceOf(IllegalArgumentException.class);
        assertThat(log.configEntries()).extracting(Entry::baseOffset).containsExactly(7L, 15L);
        assertThat(log.configEntries().get(0).voters()).containsExactly(1, 2, 3, 4);
        assertThat(log.configEntries().get(1).voters()).containsExactly(1, 2, 3);
    }

    @Test
    void readsStopAtTheByteLimitButReturnAtLeastOneEntry() throws Exception {
        RaftLog log = fill(newLog());
        List<Entry> all = standardEntries();
        int first = all.get(1).sizeInBytes();
        int second = all.get(2).sizeInBytes();
        // the leader change at 6 has no data, so it still fits; the config at 7 (16 bytes) does not
        assertSameEntries(log.read(1, first + second), all.subList(1, 4));
        assertSameEntries(log.read(1, first + second - 1), all.subList(1, 2));
        assertSameEntries(log.read(4, second), all.subList(2, 4));
        assertSameEntries(log.read(4, 0), all.subList(2, 3));
        assertSameEntries(log.read(4, 1), all.subList(2, 3));
        assertSameEntries(log.read(8, 0), all.subList(5, 6));
        assertSameEntries(log.read(6, 0), all.subList(3, 4));
    }

    @Test
    void answersTermQueriesAcrossTerms() throws Exception {
        RaftLog log = fill(newLog());
        long[][] ending = {{-2, -1}, {-1, 0}, {0, 1}, {3, 1}, {5, 1}, {6, 2}, {7, 2}, {12, 2}, {13, 4}, {14, 4},
            {15, 4}, {19, 4}, {1, -1}, {2, -1}, {4, -1}, {8, -1}, {11, -1}, {16, -1}, {18, -1}, {20, -1}, {25, -1}};
        for (long[] q : ending) {
            assertThat(log.termOfEntryEndingAt(q[0])).as("term of the entry ending at %d", q[0]).isEqualTo(q[1]);
        }
        long[][] endForTerm = {{0, 0}, {1, 6}, {2, 13}, {3, 13}, {4, 20}, {9, 20}};
        for (long[] q : endForTerm) {
            assertThat(log.endOffsetForTerm(q[0])).as("end offset for term %d", q[0]).isEqualTo(q[1]);
        }
        long[][] floor = {{0, 0}, {2, 1}, {3, 1}, {4, 4}, {5, 4}, {6, 6}, {7, 7}, {9, 8}, {12, 8}, {13, 13},
            {14, 14}, {15, 15}, {17, 16}, {19, 16}, {20, 20}, {30, 20}};
        for (long[] q : floor) {
            assertThat(log.floorBoundary(q[0])).as("floor boundary of %d", q[0]).isEqualTo(q[1]);
        }
    }

    @Test
    void truncatesAtBoundariesOnly() throws Exception {
        RaftLog log = fill(newLog());
        assertThatThrownBy(() -> log.truncateTo(9)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.truncateTo(-1)).isInstanceOf(IllegalArgumentException.class);
        log.truncateTo(25);
        log.truncateTo(20);
        assertThat(log.endOffset()).isEqualTo(20);

        log.truncateTo(15); // inside term 4
        assertThat(log.endOffset()).isEqualTo(15);
        assertThat(log.lastTerm()).isEqualTo(4);
        assertThat(log.endOffsetForTerm(4)).isEqualTo(15);
        assertThat(log.termOfEntryEndingAt(14)).isEqualTo(4);
        assertThat(log.floorBoundary(17)).isEqualTo(15);

        log.truncateTo(13); // at the start of term 4
        assertThat(log.lastTerm()).isEqualTo(2);
        assertThat(log.endOffsetForTerm(4)).isEqualTo(13);
        assertThat(log.termOfEntryEndingAt(13)).isEqualTo(-1);
        log.append(Entry.leaderChange(13, 5));
        log.append(data(14, 2, 5));
        assertThat(log.endOffsetForTerm(2)).isEqualTo(13);
        assertThat(log.endOffsetForTerm(4)).isEqualTo(13);
        assertThat(log.endOffsetForTerm(5)).isEqualTo(16);
        assertThat(log.termOfEntryEndingAt(15)).isEqualTo(5);
        assertThat(log.termOfEntryEndingAt(12)).isEqualTo(2);
        assertSameEntries(log.read(13, Integer.MAX_VALUE), List.of(Entry.leaderChange(13, 5), data(14, 2, 5)));

        log.truncateTo(0);
        assertThat(log.endOffset()).isZero();
        assertThat(log.lastTerm()).isZero();
        assertThat(log.endOffsetForTerm(9)).isZero();
        assertThat(log.read(0, 100)).isEmpty();
        log.append(Entry.leaderChange(0, 6));
        assertThat(log.termOfEntryEndingAt(0)).isEqualTo(6);
        assertThat(log.endOffsetForTerm(5)).isZero();
    }

    @Test
    void configEntriesFollowTruncation() throws Exception {
        RaftLog log = fill(newLog());
        log.truncateTo(15);
        assertThat(log.configEntries()).extracting(Entry::baseOffset).containsExactly(7L);
        log.truncateTo(7);
        assertThat(log.configEntries()).isEmpty();
        log.append(Entry.config(7, 3, Set.of(1, 2)));
        assertThat(log.configEntries()).extracting(Entry::baseOffset).containsExactly(7L);
        assertThat(log.configEntries().get(0).voters()).containsExactly(1, 2);
        assertThat(log.configEntries().get(0).term()).isEqualTo(3);
    }

    @Test
    void compactionMovesTheStartAndKeepsTheSnapshot() throws Exception {
        RaftLog log = fill(newLog());
        Snapshot at16 = new Snapshot(16, 4, Set.of(1, 2, 3), ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertThatThrownBy(() -> log.compact(new Snapshot(9, 2, Set.of(), ByteBuffer.allocate(0))))
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.compact(new Snapshot(16, 2, Set.of(), ByteBuffer.allocate(0))))
            .isInstanceOf(IllegalArgumentException.class);
        log.compact(at16);
        log.compact(new Snapshot(8, 2, Set.of(), ByteBuffer.allocate(0))); // below the start: nothing
        assertThat(log.startOffset()).isEqualTo(16);
        assertThat(log.startTerm()).isEqualTo(4);
        assertThat(log.snapshot()).isEqualTo(at16);
        assertThat(log.termOfEntryEndingAt(15)).isEqualTo(4);
        assertThat(log.floorBoundary(2)).isEqualTo(16);
        assertThat(log.endOffsetForTerm(1)).isEqualTo(16);
        assertThat(log.configEntries()).isEmpty();
        assertSameEntries(log.read(16, Integer.MAX_VALUE), standardEntries().subList(9, 10));
        log.truncateTo(16);
        assertThat(log.lastTerm()).isEqualTo(4);
        log.compact(new Snapshot(16, 4, Set.of(), ByteBuffer.allocate(0))); // at the start: nothing
        assertThat(log.snapshot()).isEqualTo(at16);
    }

    @Test
    void resetReplacesTheWholeLog() throws Exception {
        RaftLog log = fill(newLog());
        Snapshot inside = new Snapshot(8, 3, Set.of(1, 2), ByteBuffer.allocate(0));
        log.reset(inside);
        assertThat(log.startOffset()).isEqualTo(8);
        assertThat(log.endOffset()).isEqualTo(8);
        assertThat(log.lastTerm()).isEqualTo(3);
        assertThat(log.snapshot()).isEqualTo(inside);
        assertThat(log.read(8, 100)).isEmpty();
        assertThat(log.configEntries()).isEmpty();
        log.append(Entry.leaderChange(8, 5));
        log.reset(new Snapshot(40, 6, Set.of(), ByteBuffer.allocate(0)));
        assertThat(log.startOffset()).isEqualTo(40);
        assertThat(log.termOfEntryEndingAt(39)).isEqualTo(6);
        log.append(data(40, 2, 7));
        assertThat(log.endOffsetForTerm(6)).isEqualTo(40);
        assertThat(log.endOffsetForTerm(7)).isEqualTo(42);
    }

    @Test
    void reopenGivesTheSameAnswers() throws Exception {
        RaftLog log = fill(newLog());
        log.truncateTo(16);
        log.append(data(16, 3, 5));
        List<String> before = answers(log);
        RaftLog reopened = reopen(log);
        assertThat(answers(reopened)).isEqualTo(before);
        List<Entry> expected = new ArrayList<>(standardEntries().subList(0, 9));
        expected.add(data(16, 3, 5));
        assertSameEntries(reopened.read(0, Integer.MAX_VALUE), expected);
    }

    /** Every query's answer over the offsets around the log. */
    static List<String> answers(RaftLog log) {
        List<String> answers = new ArrayList<>();
        answers.add("start=" + log.startOffset() + " startTerm=" + log.startTerm() + " end=" + log.endOffset()
            + " lastTerm=" + log.lastTerm());
        for (long o = log.startOffset() - 2; o <= log.endOffset() + 2; o++) {
            answers.add(o + ": ending=" + log.termOfEntryEndingAt(o) + " floor=" + log.floorBoundary(o)
                + " endForTerm=" + log.endOffsetForTerm(o));
        }
        for (Entry entry : log.read(log.startOffset(), Integer.MAX_VALUE)) {
            answers.add(entry + " " + Arrays.hashCode(bytes(entry)));
        }
        for (Entry entry : log.configEntries()) {
            answers.add("config " + entry + " " + entry.voters());
        }
        return answers;
    }
}
