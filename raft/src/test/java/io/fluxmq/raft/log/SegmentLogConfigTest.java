package io.fluxmq.raft.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SegmentLogConfigTest {

    @Test
    void defaultsAreKafkas() {
        SegmentLogConfig config = SegmentLogConfig.defaults();
        assertThat(config.segmentBytes()).isEqualTo(1024 * 1024 * 1024);
        assertThat(config.segmentMs()).isEqualTo(7L * 24 * 3600 * 1000);
        assertThat(config.indexIntervalBytes()).isEqualTo(4096);
        assertThat(config.maxIndexBytes()).isEqualTo(10 * 1024 * 1024);
    }

    @Test
    void smallestLegalValuesAreAccepted() {
        SegmentLogConfig config = new SegmentLogConfig(1024, 1, 0, 12);
        assertThat(config.maxIndexBytes()).isEqualTo(12);
    }

    @Test
    void invalidValuesAreRejectedNamingTheField() {
        assertThatThrownBy(() -> new SegmentLogConfig(1023, 1, 0, 12))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("segmentBytes");
        assertThatThrownBy(() -> new SegmentLogConfig(1024, 0, 0, 12))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("segmentMs");
        assertThatThrownBy(() -> new SegmentLogConfig(1024, 1, -1, 12))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("indexIntervalBytes");
        assertThatThrownBy(() -> new SegmentLogConfig(1024, 1, 0, 11))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("maxIndexBytes");
    }
}
