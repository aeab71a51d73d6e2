package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One node of a 3-node cluster runs out of disk (its data directory is a 48 MiB tmpfs; needs root) while leading some
 * partitions under a producer with {@code acks=all}: its replicas stop there, the partitions it led are led from the
 * other two nodes, every send is acknowledged (the producer retries what the full node refused), that node stays up
 * and names the new leaders in its own Metadata answers, and every acknowledged record is read back.
 */
class FullDiskFailoverIT {
    private static final String TOPIC = "full-failover";
    private static final int PARTITIONS = 6;
    /** About 90 MB of records: each node keeps every partition (RF 3), so the 48 MiB node fills half way. */
    private static final int RECORDS = 90_000;

    record Acked(int partition, long offset, String value) {}

    @Test
    void aNodeWhoseDiskFillsHandsItsPartitionsToTheOthers(@TempDir Path tmp) throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("node-0"), "48m", "fluxmq-full-failover")) {
            Path small = disk.path();
            Map<String, String> settings = Map.of("log.segment.bytes", Integer.toString(4 << 20));
            try (TestCluster cluster = TestCluster.withDataDirs(3, settings,
                    i -> i == 0 ? small : tmp.resolve("node-" + i), "full-failover-node-")) {
                cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
                // a new partition's preferred replica campaigns first, but a slower node may lose that race and get
                // its partitions back a moment later (preferred-leader balancing)
                Map<Integer, Integer> before = leaders(cluster.bootstrap());
                long leadDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!before.containsValue(0) && System.nanoTime() < leadDeadline) {
                    Thread.sleep(100);
                    before = leaders(cluster.bootstrap());
                }
                assertThat(before.values()).as("node 0 leads some partitions before its disk fills").contains(0);

                ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
                Map<String, Integer> errors = new ConcurrentHashMap<>();
                AtomicReference<String> firstError = new AtomicReference<>();
                String padding = "x".repeat(1000);
                try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(),
                        Map.of(ProducerConfig.ACKS_CONFIG, "all",
                                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000))) {
                    for (int i = 0; i < RECORDS; i++) {
                        String value = i + ":" + padding;
                        int partition = i % PARTITIONS;
                        producer.send(new ProducerRecord<>(TOPIC, partition, "k" + i, value), (md, e) -> {
                            if (e == null) {
                                acked.add(new Acked(partition, md.offset(), value));
                            } else {
                                errors.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                                firstError.compareAndSet(null, e.toString());
                            }
                        });
                    }
                    producer.flush();
                }
                long free = Files.getFileStore(small).getUsableSpace();
                Map<Integer, Integer> after = leaders(cluster.bootstrap());
                Map<Integer, Integer> afterFromNode0 = leaders(cluster.node(0).bootstrap());
                System.out.printf("FULLDISK-FAILOVER %d acknowledged, %d failed %s (first: %s); node 0's disk free %d "
                        + "bytes; leaders before %s, after %s, as node 0 answers %s%n", acked.size(),
                        errors.values().stream().mapToInt(Integer::intValue).sum(), errors, firstError.get(), free,
                        before, after, afterFromNode0);
                assertThat(free).as("node 0's disk filled up").isLessThan(8L << 20);
                assertThat(errors).as("sends that failed").isEmpty();
                assertThat(acked).hasSize(RECORDS);
                assertThat(cluster.node(0).isAlive()).as("node 0 still running with a full disk").isTrue();
                assertThat(after.values()).as("leaders once node 0's disk is full").doesNotContain(0, -1);
                assertThat(afterFromNode0).as("node 0's own Metadata answer").isEqualTo(after);

                Map<TopicPartition, List<ConsumerRecord<String, String>>> read = Clients.readAll(cluster.bootstrap(),
                        TOPIC, PARTITIONS, Duration.ofSeconds(120));
                Map<Integer, Map<Long, String>> byOffset = new HashMap<>();
                read.forEach((tp, records) -> records.forEach(r ->
                        byOffset.computeIfAbsent(tp.partition(), p -> new HashMap<>()).put(r.offset(), r.value())));
                for (Acked a : acked) {
                    assertThat(byOffset.getOrDefault(a.partition(), Map.of()).get(a.offset()))
                            .as("acknowledged record at %d/%d", a.partition(), a.offset()).isEqualTo(a.value());
                }
                System.out.printf("FULLDISK-FAILOVER every one of the %d acknowledged records read back%n",
                        acked.size());
            }
        }
    }

    /** Partition → leader id (-1 for none), as the node(s) at {@code bootstrap} answer Metadata. */
    private static Map<Integer, Integer> leaders(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(TOPIC);
            Map<Integer, Integer> leaders = new HashMap<>();
            for (TopicPartitionInfo p : d.partitions()) {
                leaders.put(p.partition(), p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
            }
            return leaders;
        }
    }
}
