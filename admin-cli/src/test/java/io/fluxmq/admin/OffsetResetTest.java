package io.fluxmq.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.admin.OffsetReset.Kind;
import io.fluxmq.admin.OffsetReset.TopicSelection;
import java.time.ZoneId;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** How reset-offsets picks new offsets, and how it reads times and topic selections. */
class OffsetResetTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    @Test
    void eachKindWithinLogStartAndEnd() {
        assertThat(new OffsetReset(Kind.EARLIEST, 0).newOffset(TP, 50L, 10, 100, null)).isEqualTo(10);
        assertThat(new OffsetReset(Kind.LATEST, 0).newOffset(TP, 50L, 10, 100, null)).isEqualTo(100);
        assertThat(new OffsetReset(Kind.OFFSET, 42).newOffset(TP, null, 10, 100, null)).isEqualTo(42);
        assertThat(new OffsetReset(Kind.OFFSET, 5).newOffset(TP, null, 10, 100, null)).isEqualTo(10);
        assertThat(new OffsetReset(Kind.OFFSET, 500).newOffset(TP, null, 10, 100, null)).isEqualTo(100);
        assertThat(new OffsetReset(Kind.SHIFT, -20).newOffset(TP, 50L, 10, 100, null)).isEqualTo(30);
        assertThat(new OffsetReset(Kind.SHIFT, -200).newOffset(TP, 50L, 10, 100, null)).isEqualTo(10);
        assertThat(new OffsetReset(Kind.SHIFT, 70).newOffset(TP, 50L, 10, 100, null)).isEqualTo(100);
        assertThat(new OffsetReset(Kind.DATETIME, 1L).newOffset(TP, 50L, 10, 100, 77L)).isEqualTo(77);
        // no record at or after the time: the log end, as Kafka
        assertThat(new OffsetReset(Kind.DATETIME, 1L).newOffset(TP, 50L, 10, 100, -1L)).isEqualTo(100);
    }

    @Test
    void shiftNeedsACommittedOffset() {
        assertThatThrownBy(() -> new OffsetReset(Kind.SHIFT, 1).newOffset(TP, null, 0, 10, null))
                .isInstanceOf(AdminException.class).hasMessageContaining("t-0 has no committed offset");
    }

    @Test
    void datetimeForms() {
        ZoneId utc = ZoneId.of("UTC");
        assertThat(OffsetReset.parseDateTime("2026-12-01T08:00:00Z", utc)).isEqualTo(1796112000000L);
        assertThat(OffsetReset.parseDateTime("2026-12-01T09:00:00+01:00", utc)).isEqualTo(1796112000000L);
        assertThat(OffsetReset.parseDateTime("2026-12-01T08:00:00.000", utc)).isEqualTo(1796112000000L);
        assertThat(OffsetReset.parseDateTime("2026-12-01T09:00:00", ZoneId.of("+01:00"))).isEqualTo(1796112000000L);
        assertThat(OffsetReset.parseDateTime("1796112000000", utc)).isEqualTo(1796112000000L);
        assertThatThrownBy(() -> OffsetReset.parseDateTime("yesterday", utc)).isInstanceOf(AdminException.class)
                .hasMessageContaining("ISO-8601")
                .satisfies(e -> assertThat(((AdminException) e).exitCode()).isEqualTo(AdminException.USAGE));
    }

    @Test
    void topicSelections() {
        assertThat(TopicSelection.parse("orders")).isEqualTo(new TopicSelection("orders", List.of()));
        assertThat(TopicSelection.parse("orders:0,2")).isEqualTo(new TopicSelection("orders", List.of(0, 2)));
        assertThatThrownBy(() -> TopicSelection.parse("orders:x")).isInstanceOf(AdminException.class);
        assertThatThrownBy(() -> TopicSelection.parse(":1")).isInstanceOf(AdminException.class);
    }
}
