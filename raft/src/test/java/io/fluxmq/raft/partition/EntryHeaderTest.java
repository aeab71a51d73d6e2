package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class EntryHeaderTest {
    @Test
    void roundTripsThroughItsFixedSizeEncoding() {
        EntryHeader h = new EntryHeader(100, 109, 1234567L, 42, (short) 3, 7, 16, 512, 1234999L);
        ByteBuffer encoded = h.toBuffer();
        assertThat(encoded.remaining()).isEqualTo(EntryHeader.SIZE);
        assertThat(EntryHeader.parse(encoded)).isEqualTo(h);
    }

    @Test
    void parsesVersion1HeadersWrittenBeforeAppendTimesWithoutOne() {
        ByteBuffer v1 = ByteBuffer.allocate(EntryHeader.SIZE_V1);
        v1.put((byte) 1).putLong(100).putLong(109).putLong(1234567L).putLong(42).putShort((short) 3).putInt(7).putInt(16)
                .putInt(512).flip();
        assertThat(EntryHeader.parse(v1)).isEqualTo(new EntryHeader(100, 109, 1234567L, 42, (short) 3, 7, 16, 512, -1));
    }

    @Test
    void isNeverMistakenForALogStartEntry() {
        ByteBuffer header = new EntryHeader(0, 0, 0, -1, (short) -1, -1, -1, 1, 5).toBuffer();
        assertThat(LogStartEntry.is(header)).isFalse();
        assertThatThrownBy(() -> EntryHeader.parse(new LogStartEntry(7).toBuffer()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesShortBuffersAndUnknownVersions() {
        assertThatThrownBy(() -> EntryHeader.parse(ByteBuffer.allocate(10))).isInstanceOf(IllegalArgumentException.class);
        ByteBuffer wrongVersion = new EntryHeader(0, 0, 0, -1, (short) -1, -1, -1, 1).toBuffer();
        wrongVersion.put(0, (byte) 9);
        assertThatThrownBy(() -> EntryHeader.parse(wrongVersion)).hasMessageContaining("version 9");
        ByteBuffer truncatedV2 = new EntryHeader(0, 0, 0, -1, (short) -1, -1, -1, 1, 5).toBuffer()
                .limit(EntryHeader.SIZE_V1);
        assertThatThrownBy(() -> EntryHeader.parse(truncatedV2)).hasMessageContaining("v3 needs");
    }
}
