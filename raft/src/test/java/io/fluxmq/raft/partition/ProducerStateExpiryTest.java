package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Expiry of idle producers ({@code producer.id.expiration.ms}) on the log's clock, and its snapshot format. */
class ProducerStateExpiryTest {
    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;
    private static final long T0 = 1_800_000_000_000L;

    /** A one-record batch of {@code pid} at {@code seq}, offset {@code offset}, created and appended at the times given. */
    private static EntryHeader batch(long pid, short epoch, int seq, long offset, long maxTimestamp, long appendTime) {
        return new EntryHeader(offset, offset, maxTimestamp, pid, epoch, seq, seq, 100, appendTime);
    }

    private static EntryHeader plain(long offset, long appendTime) {
        return new EntryHeader(offset, offset, appendTime, -1, (short) -1, -1, -1, 100, appendTime);
    }

    @Test
    void dropsProducersIdleForTheExpirationOnTheLogsClock() {
        ProducerStateTable table = new ProducerStateTable(DAY);
        table.record(batch(1, (short) 0, 0, 0, T0, T0));
        table.record(batch(2, (short) 0, 0, 1, T0, T0));
        table.record(batch(2, (short) 0, 1, 2, T0 + 12 * HOUR, T0 + 12 * HOUR));
        table.record(plain(3, T0 + DAY - 1));
        assertThat(table.size()).as("producer 1 idle one ms short of a day").isEqualTo(2);

        table.record(plain(4, T0 + DAY + HOUR));
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.lastTimestamp(1)).isEqualTo(-1);
        assertThat(table.lastTimestamp(2)).isEqualTo(T0 + 12 * HOUR);

        table.record(plain(5, T0 + 12 * HOUR + DAY + HOUR));
        assertThat(table.size()).isZero();
        assertThat(table.clockMs()).isEqualTo(T0 + 12 * HOUR + DAY + HOUR);
    }

    @Test
    void anExpiredProducerMayComeBackAtItsNextSequence() {
        ProducerStateTable table = new ProducerStateTable(DAY);
        table.record(batch(1, (short) 0, 0, 0, T0, T0));
        table.record(batch(1, (short) 0, 1, 1, T0, T0));
        table.record(plain(2, T0 + 2 * DAY));
        assertThat(table.size()).isZero();
        assertThat(table.check(batch(1, (short) 0, 2, 3, T0 + 2 * DAY, T0 + 2 * DAY)))
                .isInstanceOf(ProducerStateTable.Check.Accept.class);
    }

    @Test
    void scansOnlyWhenTheClockEntersANewCheckPeriod() {
        ProducerStateTable table = new ProducerStateTable(500, 1000);
        table.record(batch(1, (short) 0, 0, 0, 100, 100));
        table.record(plain(1, 999));
        assertThat(table.size()).as("idle 899 ms, but the clock is still in the period 0..999").isEqualTo(1);
        table.record(plain(2, 1000));
        assertThat(table.size()).as("scanned on entering period 1000..1999").isZero();
        table.record(batch(2, (short) 0, 0, 3, 1100, 1100));
        table.record(plain(4, 5000));
        assertThat(table.size()).as("a jump over several periods scans once").isZero();
    }

    @Test
    void aProducerWritingOldTimestampsIsKeptWhileItWrites() {
        ProducerStateTable table = new ProducerStateTable(DAY);
        long old = T0 - 30 * DAY; // a mirror copying month-old CreateTime records
        for (int i = 0; i < 5; i++) {
            table.record(batch(1, (short) 0, i, i, old + i, T0 + i * HOUR));
        }
        table.record(plain(5, T0 + 5 * HOUR));
        assertThat(table.lastTimestamp(1)).isEqualTo(T0 + 4 * HOUR);
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void theClockNeverRunsBackwardsWhenANewLeaderIsBehind() {
        ProducerStateTable table = new ProducerStateTable(DAY);
        table.record(plain(0, T0));
        table.record(plain(1, T0 - HOUR));
        table.record(new EntryHeader(2, 2, 0, -1, (short) -1, -1, -1, 100)); // version 1 entry: no append time
        assertThat(table.clockMs()).isEqualTo(T0);
    }

    @Test
    void roundTripsTimestampsAndClockInFormat2() throws IOException {
        ProducerStateTable table = new ProducerStateTable(DAY);
        table.record(batch(9, (short) 2, 0, 0, T0, T0));
        table.record(batch(4, (short) 0, 0, 1, T0 + HOUR, T0 + 2 * HOUR));
        byte[] bytes = write(table);
        ProducerStateTable copy = read(bytes, ProducerStateTable.FORMAT_V2, DAY);
        assertThat(write(copy)).isEqualTo(bytes);
        assertThat(copy.clockMs()).isEqualTo(T0 + 2 * HOUR);
        assertThat(copy.lastTimestamp(9)).isEqualTo(T0);
        assertThat(copy.lastTimestamp(4)).isEqualTo(T0 + 2 * HOUR);
        assertThat(copy.check(batch(9, (short) 2, 0, 7, T0, T0))).isEqualTo(new ProducerStateTable.Check.Duplicate(
                new ProducerStateTable.BatchMetadata(0, 0, 0, 0)));
        copy.record(plain(2, T0 + DAY + HOUR));
        assertThat(copy.size()).as("expiry continues from the loaded clock and timestamps").isEqualTo(1);
    }

    @Test
    void loadsFormat1AndStartsItsProducersIdleClockAtTheFirstScan() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(1); // format 1, as partition snapshot versions 1 and 2 hold it: no clock, no timestamps
        out.writeLong(7);
        out.writeShort(3);
        out.writeByte(1);
        out.writeInt(0);
        out.writeInt(4);
        out.writeLong(100);
        out.writeLong(104);
        ProducerStateTable table = read(bytes.toByteArray(), ProducerStateTable.FORMAT_V1, DAY);
        assertThat(table.clockMs()).isEqualTo(-1);
        assertThat(table.lastTimestamp(7)).isEqualTo(-1);
        assertThat(table.check(new EntryHeader(105, 109, T0, 7, (short) 3, 0, 4, 100, T0)))
                .isEqualTo(new ProducerStateTable.Check.Duplicate(new ProducerStateTable.BatchMetadata(0, 4, 100, 104)));

        table.record(plain(105, T0));
        assertThat(table.lastTimestamp(7)).as("stamped with the clock of the first scan").isEqualTo(T0);
        table.record(plain(106, T0 + DAY - HOUR));
        assertThat(table.size()).isEqualTo(1);
        table.record(plain(107, T0 + DAY));
        assertThat(table.size()).isZero();
    }

    /**
     * Replicas apply the same entries but start from different snapshots (none, one taken at any index, a copy as the
     * leader view makes); their tables must end byte-identical, expiries included.
     */
    @Test
    void everyReplicaEndsWithTheSameTableWhicheverSnapshotItStartedFrom() throws IOException {
        Random random = new Random(42);
        List<EntryHeader> log = new ArrayList<>();
        Map<Long, Integer> nextSeq = new HashMap<>();
        long clock = T0;
        for (long offset = 0; offset < 3000; offset++) {
            clock += random.nextInt(2) == 0 ? random.nextInt(1000) : random.nextInt((int) (4 * HOUR));
            long appendTime = offset % 500 == 7 ? -1 : clock - random.nextInt(5000); // leader changes, v1 entries
            if (random.nextInt(10) == 0) {
                log.add(plain(offset, appendTime));
                continue;
            }
            long pid = random.nextInt(200);
            int seq = nextSeq.merge(pid, 1, Integer::sum) - 1;
            log.add(batch(pid, (short) 0, seq, offset, clock - random.nextInt((int) HOUR), appendTime));
        }
        ProducerStateTable whole = new ProducerStateTable(DAY);
        log.forEach(whole::record);
        byte[] expected = write(whole);
        assertThat(whole.size()).as("some producers expired, some remain").isBetween(1, 199);

        for (int cut : new int[] {0, 1, 499, 500, 1234, 2999}) {
            ProducerStateTable first = new ProducerStateTable(DAY);
            log.subList(0, cut).forEach(first::record);
            ProducerStateTable fromSnapshot = read(write(first), ProducerStateTable.FORMAT_V2, DAY);
            ProducerStateTable fromCopy = first.copy();
            log.subList(cut, log.size()).forEach(fromSnapshot::record);
            log.subList(cut, log.size()).forEach(fromCopy::record);
            assertThat(write(fromSnapshot)).as("snapshot at %d", cut).isEqualTo(expected);
            assertThat(write(fromCopy)).as("copy at %d", cut).isEqualTo(expected);
        }
    }

    private static byte[] write(ProducerStateTable table) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        table.writeTo(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static ProducerStateTable read(byte[] bytes, int format, long expirationMs) throws IOException {
        return ProducerStateTable.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)), format, expirationMs);
    }
}
