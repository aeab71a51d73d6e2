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
        String missing = missing(read, seenAt, acked);
        for (Map.Entry<String, ContinuousProducer.Ack> a : acked.entrySet()) {
            assertThat(seenAt.get(a.getKey())).as("%s: acknowledged %s at %s (%s)", when, a.getKey(), a.getValue(),
                    missing).isEqualTo(a.getValue().offset());
        }
    }

    /** Per partition: how many acknowledged records were not read at their offset, the lowest, and what was read. */
    private static String missing(Map<TopicPartition, List<ConsumerRecord<String, String>>> read,
                                  Map<String, Long> seenAt, Map<String, ContinuousProducer.Ack> acked) {
        Map<TopicPartition, long[]> byPartition = new java.util.TreeMap<>(
                java.util.Comparator.comparing(TopicPartition::toString));
        for (Map.Entry<String, ContinuousProducer.Ack> a : acked.entrySet()) {
            long offset = a.getValue().offset();
            long[] m = byPartition.computeIfAbsent(a.getValue().tp(), tp -> new long[] {0, Long.MAX_VALUE, -1});
            m[2] = Math.max(m[2], offset);
            if (!Long.valueOf(offset).equals(seenAt.get(a.getKey()))) {
                m[0]++;
                m[1] = Math.min(m[1], offset);
            }
        }
        StringBuilder out = new StringBuilder();
        byPartition.forEach((tp, m) -> {
            if (m[0] > 0) {
                List<ConsumerRecord<String, String>> records = read.getOrDefault(tp, List.of());
                out.append(String.format("%s: %d acknowledged missing from offset %d, highest acknowledged %d, "
                        + "%d read up to offset %d; ", tp, m[0], m[1], m[2], records.size(),
                        records.isEmpty() ? -1 : records.get(records.size() - 1).offset()));
            }
        });
        return out.length() == 0 ? "nothing missing" : out.toString();
    }
}
