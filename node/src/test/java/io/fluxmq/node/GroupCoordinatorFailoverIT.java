package io.fluxmq.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable group state: on three nodes, a KIP-848 group ({@code group.protocol=consumer}) and a classic group of static
 * members ({@code group.instance.id}) consume one topic (RF=3). Both groups live in the same {@code __consumer_offsets}
 * partition, so one node coordinates both; it is SIGKILLed. The new coordinator restores the groups from that
 * partition: no consumer sees a revoke, lost or assign callback after the kill, each keeps its partitions and its
 * generation or member epoch, every member heartbeats and commits to the new coordinator, and records produced after
 * the kill are consumed.
 */
class GroupCoordinatorFailoverIT {
    private static final String TOPIC = "failover-orders";
    private static final int PARTITIONS = 6;
    private static final int MEMBERS = 3;
    private static final int OFFSETS_PARTITIONS = 10;
    private static final String KIP848_GROUP = "failover-kip848";
    private static final int PER_PARTITION = 20;
    private static final Duration WAIT = Duration.ofSeconds(45);

    @Test
    @Timeout(150)
    void groupsKeepTheirAssignmentsWhenTheirCoordinatorIsKilled(@TempDir Path dir) throws Exception {
        long start = System.nanoTime();
        String classicGroup = classicGroupInTheSameOffsetsPartition();
        try (TestCluster cluster = TestCluster.start(3, dir, Map.of(
                "offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS),
                "group.consumer.heartbeat.interval.ms", "500"));
             Admin admin = cluster.admin()) {
            cluster.createTopic(TOPIC, PARTITIONS, (short) 3);
            String bootstrap = cluster.bootstrap();
            List<Member> kip848 = new ArrayList<>();
            List<Member> classic = new ArrayList<>();
            try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of())) {
                for (int i = 0; i < MEMBERS; i++) {
                    kip848.add(Member.start("kip848-" + i, kip848Settings(bootstrap, i)));
                    classic.add(Member.start("static-" + i, staticSettings(bootstrap, classicGroup, i)));
                }
                Set<String> before = produce(producer, "before");
                awaitSettled(admin, KIP848_GROUP, kip848, before);
                awaitSettled(admin, classicGroup, classic, before);
                int coordinator = coordinator(admin, KIP848_GROUP);
                assertThat(coordinator(admin, classicGroup)).as("one node coordinates both groups")
                        .isEqualTo(coordinator);
                System.out.printf("%.1f s: both groups settled, node %d coordinates them%n", seconds(start),
                        coordinator);

                List<Member> all = new ArrayList<>(kip848);
                all.addAll(classic);
                Map<Member, Snapshot> atKill = new HashMap<>();
                all.forEach(m -> atKill.put(m, m.snapshot()));
                cluster.node(coordinator).kill();
                System.out.printf("%.1f s: node %d killed%n", seconds(start), coordinator);

                Set<String> after = produce(producer, "after");
                await("a new coordinator answers for both groups", () -> undisturbed(all, atKill)
                        && moved(admin, KIP848_GROUP, coordinator) && moved(admin, classicGroup, coordinator));
                System.out.printf("%.1f s: node %d coordinates the groups%n", seconds(start),
                        coordinator(admin, KIP848_GROUP));
                Map<Member, Double> heartbeatsAtMove = new HashMap<>();
                all.forEach(m -> heartbeatsAtMove.put(m, m.heartbeats));
                await("every record produced after the kill consumed by both groups", () -> undisturbed(all, atKill)
                        && received(kip848).containsAll(after) && received(classic).containsAll(after));
                await("every member heartbeats and commits to the new coordinator", () -> undisturbed(all, atKill)
                        && all.stream().allMatch(m -> m.heartbeats >= heartbeatsAtMove.get(m) + 3
                                && m.commits.get() > atKill.get(m).commits()));
                System.out.printf("%.1f s: records after the kill consumed, members heartbeat and commit%n",
                        seconds(start));

                for (Member m : all) {
                    Snapshot now = m.snapshot();
                    assertThat(m.failures).as("%s failures", m.name).isEmpty();
                    assertThat(now.callbacks()).as("%s rebalance callbacks after the kill", m.name)
                            .isEqualTo(atKill.get(m).callbacks());
                    assertThat(now.assignment()).as("%s assignment", m.name).isEqualTo(atKill.get(m).assignment());
                    assertThat(now.generation()).as("%s generation / member epoch", m.name)
                            .isEqualTo(atKill.get(m).generation());
                }
                ConsumerGroupDescription kip848After = describe(admin, KIP848_GROUP);
                assertThat(kip848After.groupState()).isEqualTo(GroupState.STABLE);
                assertThat(kip848After.members()).as("KIP-848 members after the kill").hasSize(MEMBERS);
                ConsumerGroupDescription classicAfter = describe(admin, classicGroup);
                assertThat(classicAfter.groupState()).isEqualTo(GroupState.STABLE);
                assertThat(classicAfter.members()).as("static members after the kill").hasSize(MEMBERS)
                        .allMatch(d -> d.groupInstanceId().isPresent());
            } finally {
                List<Member> all = new ArrayList<>(kip848);
                all.addAll(classic);
                all.forEach(Member::stop); // all leave at once rather than one by one through rebalances
                for (Member m : all) {
                    m.close();
                }
            }
        }
        System.out.printf("%.1f s: done%n", seconds(start));
    }

    /** A classic group id that lands in the KIP-848 group's offsets partition, so one node coordinates both. */
    private static String classicGroupInTheSameOffsetsPartition() {
        int target = Utils.abs(KIP848_GROUP.hashCode()) % OFFSETS_PARTITIONS;
        for (int i = 0; i < 1000; i++) {
            String id = "failover-static-" + i;
            if (Utils.abs(id.hashCode()) % OFFSETS_PARTITIONS == target) {
                return id;
            }
        }
        throw new AssertionError("no group id in offsets partition " + target);
    }

    private static Map<String, Object> kip848Settings(String bootstrap, int i) {
        Map<String, Object> c = common(bootstrap, "kip848-" + i);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, KIP848_GROUP);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        return c;
    }

    private static Map<String, Object> staticSettings(String bootstrap, String group, int i) {
        Map<String, Object> c = common(bootstrap, "static-" + i);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "static-" + i);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 20_000);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        return c;
    }

    private static Map<String, Object> common(String bootstrap, String clientId) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return c;
    }

    /** Writes {@link #PER_PARTITION} records to every partition and waits for their acknowledgements. */
    private static Set<String> produce(KafkaProducer<String, String> producer, String phase) throws Exception {
        Set<String> values = new HashSet<>();
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            for (int i = 0; i < PER_PARTITION; i++) {
                String value = phase + "-" + p + "-" + i;
                values.add(value);
                sends.add(producer.send(new ProducerRecord<>(TOPIC, p, null, value)));
            }
        }
        for (Future<RecordMetadata> send : sends) {
            send.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        return values;
    }

    /**
     * Waits until the group is Stable, its members split the topic between them as the coordinator describes it, and
     * they consumed {@code records}.
     */
    private static void awaitSettled(Admin admin, String group, List<Member> members, Set<String> records)
            throws Exception {
        await(group + " Stable, its members owning what the coordinator assigned them, every record consumed", () -> {
            ConsumerGroupDescription d = describeOrNull(admin, group);
            if (d == null || d.groupState() != GroupState.STABLE || d.members().size() != members.size()) {
                return false;
            }
            Set<TopicPartition> described = new HashSet<>();
            d.members().forEach(md -> described.addAll(md.assignment().topicPartitions()));
            Set<TopicPartition> owned = new HashSet<>();
            for (Member m : members) {
                Set<TopicPartition> mine = m.assignment;
                if (mine.isEmpty() || !d.members().stream().map(MemberDescription::assignment)
                        .anyMatch(a -> a.topicPartitions().equals(mine))) {
                    return false;
                }
                owned.addAll(mine);
            }
            return owned.size() == PARTITIONS && described.equals(owned) && received(members).containsAll(records);
        });
    }

    /** True, or fails at once naming the member that saw a rebalance callback or failed since the kill. */
    private static boolean undisturbed(List<Member> members, Map<Member, Snapshot> atKill) {
        for (Member m : members) {
            List<String> callbacks = m.snapshot().callbacks();
            List<String> since = callbacks.subList(atKill.get(m).callbacks().size(), callbacks.size());
            if (!since.isEmpty() || !m.failures.isEmpty()) {
                throw new AssertionError(m.name + " after the kill: callbacks " + since + ", failures " + m.failures);
            }
        }
        return true;
    }

    private static boolean moved(Admin admin, String group, int killed) {
        ConsumerGroupDescription d = describeOrNull(admin, group);
        return d != null && d.coordinator() != null && d.coordinator().id() != killed;
    }

    private static int coordinator(Admin admin, String group) throws Exception {
        return describe(admin, group).coordinator().id();
    }

    private static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(WAIT.toSeconds(), TimeUnit.SECONDS).get(group);
    }

    private static ConsumerGroupDescription describeOrNull(Admin admin, String group) {
        try {
            return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group);
        } catch (Exception e) { // the coordinator is moving
            return null;
        }
    }

    private static Set<String> received(List<Member> members) {
        Set<String> out = new HashSet<>();
        members.forEach(m -> out.addAll(m.received));
        return out;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT + ": " + what);
            }
            Thread.sleep(100);
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** What a member shows at one moment: rebalance callbacks so far, assignment, generation, successful commits. */
    private record Snapshot(List<String> callbacks, Set<TopicPartition> assignment, int generation, int commits) {}

    /**
     * One consumer on its own thread, which alone touches the {@link KafkaConsumer}: it polls, commits what it read,
     * and publishes its assignment, generation (member epoch for KIP-848) and heartbeat count for the test to read.
     */
    private static final class Member implements AutoCloseable {
        final String name;
        final Set<String> received = ConcurrentHashMap.newKeySet();
        final List<String> callbacks = new CopyOnWriteArrayList<>();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        final AtomicInteger commits = new AtomicInteger();
        volatile Set<TopicPartition> assignment = Set.of();
        volatile int generation = -1;
        volatile double heartbeats;
        private volatile boolean running = true;
        private final Thread thread;

        private Member(String name, Map<String, Object> settings) {
            this.name = name;
            this.thread = new Thread(() -> run(settings), name);
        }

        static Member start(String name, Map<String, Object> settings) {
            Member m = new Member(name, settings);
            m.thread.start();
            return m;
        }

        Snapshot snapshot() {
            return new Snapshot(List.copyOf(callbacks), assignment, generation, commits.get());
        }

        private void run(Map<String, Object> settings) {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        callbacks.add("revoked " + partitions);
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        callbacks.add("assigned " + partitions);
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> partitions) {
                        callbacks.add("lost " + partitions);
                    }
                });
                while (running) {
                    try {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                        records.forEach(r -> received.add(r.value()));
                        if (!records.isEmpty()) {
                            consumer.commitSync(Duration.ofSeconds(20));
                            commits.incrementAndGet();
                        }
                    } catch (TimeoutException e) {
                        // the coordinator is moving: the next commit carries these offsets too
                    }
                    assignment = Set.copyOf(consumer.assignment());
                    generation = consumer.groupMetadata().generationId();
                    heartbeats = consumer.metrics().entrySet().stream()
                            .filter(e -> e.getKey().name().equals("heartbeat-total")
                                    && e.getKey().group().equals("consumer-coordinator-metrics"))
                            .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                            .findFirst().orElse(0);
                }
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }

        void stop() {
            running = false;
        }

        @Override
        public void close() throws InterruptedException {
            stop();
            thread.join(WAIT.toMillis());
        }
    }
}
