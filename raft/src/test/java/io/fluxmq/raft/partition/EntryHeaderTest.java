package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class EntryHeaderTest {
    @Test
    void roundTripsThroughItsFixedSizeEncoding() {
        EntryHeader h = new EntryHeader(100, 109, 1234567L, 42, (short) 3, 7, 16, 512);
        ByteBuffer encoded = h.toBuffer();
        assertThat(encoded.remaining()).isEqualTo(EntryHeader.SIZE);
        assertThat(EntryHeader.parse(encoded)).isEqualTo(h);
    }

    @Test
    void refusesShortBuffersAndUnknownVersions() {
        assertThatThrownBy(() -> EntryHeader.parse(ByteBuffer.allocate(10))).isInstanceOf(IllegalArgumentException.class);
        ByteBuffer wrongVersion = new EntryHeader(0, 0, 0, -1, (short) -1, -1, -1, 1).toBuffer();
        wrongVersion.put(0, (byte) 9);
        assertThatThrownBy(() -> EntryHeader.parse(wrongVersion)).hasMessageContaining("version 9");
    }
}
