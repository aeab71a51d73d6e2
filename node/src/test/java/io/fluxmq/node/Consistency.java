package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The fault tests' consistency check over records read back: in every partition offsets increase, every record read
 * was sent and appears once, and every acknowledged record is there at its acknowledged offset. Used by the
 * in-process fault tests and by {@link ComposeChecks} against a docker compose cluster.
 */
final class Consistency {
    private Consistency() {
    }

    /** Checks {@code read} against what was sent and acknowledged; throws AssertionError naming {@code when}. */
    static void check(String when, Map<TopicPartition, List<ConsumerRecord<String, String>>> read, Set<String> sent,
                      Map<String, ContinuousProducer.Ack> acked) {
        Map<String, Long> seenAt = new HashMap<>();
        for (Map.Entry<TopicPartition, List<ConsumerRecord<String, String>>> e : read.entrySet()) {
            long previous = -1;
            for (ConsumerRecord<String, String> r : e.getValue()) {
                assertThat(r.offset()).as("%s: offsets increase in %s", when, e.getKey()).isGreaterThan(previous);
                previous = r.offset();
                assertThat(sent.contains(r.value())).as("%s: %s was sent", when, r.value()).isTrue();
                assertThat(seenAt.put(r.value(), r.offset())).as("%s: %s appears once", when, r.value()).isNull();
            }
        }
        for (Map.Entry<String, ContinuousProducer.Ack> a : acked.entrySet()) {
            assertThat(seenAt.get(a.getKey())).as("%s: acknowledged %s at %s", when, a.getKey(), a.getValue())
                    .isEqualTo(a.getValue().offset());
        }
    }
}
