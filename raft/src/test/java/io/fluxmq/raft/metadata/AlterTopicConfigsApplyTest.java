package io.fluxmq.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** AlterTopicConfigs as the metadata state machine applies it: incremental or replacing, unknown topics refused. */
class AlterTopicConfigsApplyTest {
    private final MetadataStateMachine sm = new MetadataStateMachine();

    private Map<String, String> configsOf(String topic) {
        return sm.state().topic(topic).orElseThrow().configs();
    }

    @Test
    void roundTripsThroughItsEncoding() throws IOException {
        MetadataCommand c = new MetadataCommand.AlterTopicConfigs("t", false, Map.of("retention.ms", "1000"),
                List.of("segment.ms"));
        byte[] bytes = c.encode();
        assertThat(bytes[0]).isEqualTo((byte) 9);
        assertThat(MetadataCommand.decode(new DataInputStream(new ByteArrayInputStream(bytes)))).isEqualTo(c);
    }

    @Test
    void incrementalSetsAndDeletesKeepingTheRestAndReplaceSetsExactly() {
        TopicRecord t = new TopicRecord("t", Uuid.randomUuid(), (short) 3,
                Map.of("retention.ms", "1000", "segment.ms", "5000", "max.message.bytes", "2048"), false,
                List.of(List.of(0, 1, 2)));
        assertThat(sm.apply(new MetadataCommand.CreateTopic(t)).isOk()).isTrue();

        assertThat(sm.apply(new MetadataCommand.AlterTopicConfigs("t", false, Map.of("retention.ms", "7"),
                List.of("segment.ms"))).isOk()).isTrue();
        assertThat(configsOf("t")).containsExactlyInAnyOrderEntriesOf(
                Map.of("retention.ms", "7", "max.message.bytes", "2048"));

        assertThat(sm.apply(new MetadataCommand.AlterTopicConfigs("t", true, Map.of("segment.bytes", "65536"),
                List.of())).isOk()).isTrue();
        assertThat(configsOf("t")).containsExactlyInAnyOrderEntriesOf(Map.of("segment.bytes", "65536"));
        assertThat(sm.state().topic("t").orElseThrow().assignments()).isEqualTo(t.assignments());
        assertThat(sm.state().topic("t").orElseThrow().topicId()).isEqualTo(t.topicId());
    }

    @Test
    void anUnknownTopicIsRefused() {
        MetadataReply reply = sm.apply(new MetadataCommand.AlterTopicConfigs("nope", false, Map.of(), List.of()));
        assertThat(reply.errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
    }
}
