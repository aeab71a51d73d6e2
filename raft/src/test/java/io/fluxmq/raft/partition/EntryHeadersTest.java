package io.fluxmq.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntryHeadersTest {
    private static final EntryHeader FIRST = new EntryHeader(100, 109, 1234567L, 42, (short) 3, 7, 16, 512, 1234999L);
    private static final EntryHeader SECOND = new EntryHeader(110, 110, 1234568L, -1, (short) -1, -1, -1, 80, 1235000L);

    @Test
    void oneBatchIsWrittenAsASingleHeaderAsBeforeCoalescing() {
        ByteBuffer encoded = new EntryHeaders(List.of(FIRST)).toBuffer();

        assertThat(encoded).isEqualTo(FIRST.toBuffer());
        assertThat(EntryHeaders.encodedLength(encoded)).isEqualTo(EntryHeader.SIZE);
        assertThat(EntryHeaders.parse(encoded).headers()).containsExactly(FIRST);
    }

    @Test
    void severalBatchesRoundTripAsVersion4() {
        EntryHeaders headers = new EntryHeaders(List.of(FIRST, SECOND));
        ByteBuffer encoded = headers.toBuffer();

        assertThat(encoded.get(0)).isEqualTo(EntryHeaders.VERSION_MANY);
        assertThat(encoded.remaining()).isEqualTo(EntryHeaders.encodedLength(encoded)).isEqualTo(5 + 2 * 54);
        EntryHeaders parsed = EntryHeaders.parse(encoded);
        assertThat(parsed.headers()).containsExactly(FIRST, SECOND);
        assertThat(parsed.baseOffset()).isEqualTo(100);
        assertThat(parsed.nextOffset()).isEqualTo(111);
        assertThat(parsed.batchBytes()).isEqualTo(592);
    }

    @Test
    void aTruncatedOrEmptyListIsRefused() {
        ByteBuffer truncated = new EntryHeaders(List.of(FIRST, SECOND)).toBuffer().limit(5 + 54 + 10);
        assertThatThrownBy(() -> EntryHeaders.parse(truncated)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("announce 2 headers");
        ByteBuffer none = ByteBuffer.allocate(5).put(EntryHeaders.VERSION_MANY).putInt(0).flip();
        assertThatThrownBy(() -> EntryHeaders.parse(none)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EntryHeaders(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
